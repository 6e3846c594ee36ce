"""The issue location format: manifest paths built by join_path and split back by split_path."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from viksa_ai.devtools.validate._issues import join_path, split_path

_parts = st.lists(st.one_of(st.integers(0, 10_000), st.text(min_size=1, max_size=12)), max_size=6)


def test_paths_become_locs() -> None:
    assert split_path("agent_endpoints[2].inputs[0]") == ["agent_endpoints", 2, "inputs", 0]
    assert split_path('inputs["odd key"]') == ["inputs", "odd key"]
    assert split_path("") == []


def test_join_path_spells_each_kind_of_part() -> None:
    assert join_path("agent_endpoints", 2, "inputs", 0) == "agent_endpoints[2].inputs[0]"
    assert join_path("", "payload") == "payload"
    assert join_path("inputs", 'a "b"\n') == 'inputs["a \\"b\\"\\n"]'


@given(st.text(min_size=1, max_size=8), _parts)
def test_join_path_round_trips(head: str, parts: list[int | str]) -> None:
    if not head.isidentifier():
        head = "field"
    assert split_path(join_path(head, *parts)) == [head, *parts]


@given(st.text(max_size=60))
def test_any_path_gives_a_loc(path: str) -> None:
    assert isinstance(split_path(path), list)


def test_a_quoted_key_join_path_never_writes_is_kept_whole() -> None:
    # `["\q"]` looks quoted but is not JSON; it used to raise JSONDecodeError.
    assert split_path('inputs["\\q"]') == ["inputs", '["\\q"]']
