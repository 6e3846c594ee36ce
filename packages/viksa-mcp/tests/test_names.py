"""Tool names: ``{agent_alias}_{endpoint_name}``, [A-Za-z0-9_] only, at most 60 characters."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from viksa_ai.mcp_bridge import make_tool_name
from viksa_ai.mcp_bridge._names import short_suffix

_SAFE = re.compile(r"[A-Za-z0-9_]{1,60}")


def test_alias_and_endpoint_joined_with_an_underscore() -> None:
    assert make_tool_name("text_tools", "word_stats") == "text_tools_word_stats"


def test_characters_outside_the_safe_set_become_underscores() -> None:
    assert make_tool_name("my-agent.v2", "get flights!") == "my_agent_v2_get_flights"


def test_a_long_name_is_cut_and_keeps_its_suffix_whole() -> None:
    name = make_tool_name("a" * 50, "b" * 50, suffix="abc123")
    assert len(name) == 60
    assert name.endswith("_abc123")


def test_a_suffix_that_leaves_no_room_is_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        make_tool_name("a", "b", suffix="x" * 60)


def test_short_suffix_is_stable_and_short() -> None:
    assert short_suffix("agt1", "slugify") == short_suffix("agt1", "slugify")
    assert short_suffix("agt1", "slugify") != short_suffix("agt2", "slugify")
    assert len(short_suffix("agt1", "slugify")) == 6


@settings(database=None, derandomize=True, max_examples=300)
@given(st.text(max_size=80), st.text(max_size=80), st.none() | st.text("abc123", max_size=8))
def test_any_alias_and_endpoint_give_a_safe_name(
    alias: str, endpoint: str, suffix: str | None
) -> None:
    assert _SAFE.fullmatch(make_tool_name(alias, endpoint, suffix=suffix))
