"""The chat assistant finds an endpoint in a message in linear time, as re would."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from viksa_ai.devtools.platform.services import _assistant
from viksa_ai.devtools.platform.services._assistant import parse_request


def test_a_long_message_of_hyphenated_words_is_parsed_without_stalling() -> None:
    # Before: re tried the endpoint at every word start, each try running to the end of
    # the hyphenated run: 2.5 s for 40,000 characters, hours for 2,000,000 (on the loop).
    parsed: list[str | None] = []
    message = "a-" * 1_000_000 + " echo.main.run {}"
    parsing = threading.Thread(
        target=lambda: parsed.append(parse_request(message).endpoint), daemon=True
    )
    parsing.start()
    parsing.join(timeout=60)
    assert not parsing.is_alive(), "parsing the message backtracked for minutes"
    assert parsed == ["echo.main.run"]


@settings(max_examples=500, deadline=None, database=None)
@given(st.text(alphabet="aZ9_-.é \n{}", max_size=40))
def test_the_endpoint_found_is_the_one_re_search_finds(message: str) -> None:
    expected = _assistant._ENDPOINT.search(message)
    found = _assistant._first_endpoint(message)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert (found.span(), found.groups()) == (expected.span(), expected.groups())
