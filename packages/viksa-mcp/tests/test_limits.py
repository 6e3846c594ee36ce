"""What one agent can put in every client's context: descriptions, titles, guidelines and
allowed values are capped (an agent's text of any size reached ``tools/list``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs
from mcp import Client

from viksa_ai.mcp_bridge import BridgeServer
from viksa_ai.mcp_bridge._registry import MAX_GUIDELINES_CHARS
from viksa_ai.mcp_bridge._schema import (
    MAX_DEFAULT_CHARS,
    MAX_ENUM_CHARS,
    MAX_ENUM_VALUES,
    MAX_PATTERN_CHARS,
)
from viksa_ai.mcp_bridge._text import MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, cut_text

HUGE = "All work and no play. " * 50_000  # a million characters
MANY = [f"v{n}" for n in range(10_000)]
LONG_VALUES = ["x" * (MAX_ENUM_CHARS // 2)] * 3  # three values, too long to list
APPROVAL = " (each call waits for a person to approve it on the platform)"


@pytest.fixture
def hostile(backend: Any, make_doc: Callable[..., dict[str, Any]]) -> Any:
    """The fake backend serving the text tools agent with text of any size wherever an
    agent can put some."""
    doc = make_doc()
    doc["agent_name"] = "Name " * 100_000
    doc["ai_guidelines"] = HUGE
    inputs = {item["name"]: item for item in doc["inputs"]}
    inputs["text"]["description"] = HUGE
    inputs["top"]["allowed_values"] = list(range(1, MAX_ENUM_VALUES + 2))
    inputs["separator"]["allowed_values"] = LONG_VALUES
    inputs["algorithm"]["allowed_values"] = ["sha256", *MANY]
    inputs["message"]["allowed_values"] = ["hello", "bye"]
    doc["outputs"][0]["description"] = HUGE
    endpoints = {item["name"]: item for item in doc["agent_endpoints"]}
    endpoints["word_stats"]["description"] = HUGE
    endpoints["sign_message"]["description"] = HUGE
    endpoints["sign_message"]["execution_config"]["requires_approval"] = True
    endpoints["slugify"]["name"] = "s" * 5000
    backend.docs = [doc]
    return backend


async def _listed(backend: Any) -> tuple[dict[str, Any], str]:
    bridge = BridgeServer(backend, refresh_interval=0)
    await bridge.refresh()
    async with Client(bridge.server, mode="legacy") as client:
        listed = (await client.list_tools()).tools
        tools = {tool.name: tool.model_dump(by_alias=True) for tool in listed}
        assert client.instructions is not None
        return tools, client.instructions


def _descriptions(value: Any) -> list[str]:
    """Every ``description`` in a tool (its own, its properties', its outputs')."""
    if isinstance(value, dict):
        found = [value["description"]] if isinstance(value.get("description"), str) else []
        return found + [text for item in value.values() for text in _descriptions(item)]
    if isinstance(value, list):
        return [text for item in value for text in _descriptions(item)]
    return []


async def test_a_huge_agent_lists_in_bounded_tools(hostile: Any) -> None:
    tools, instructions = await _listed(hostile)
    assert len(tools) == 3
    for tool in tools.values():
        Draft202012Validator.check_schema(tool["inputSchema"])
        assert len(tool["title"]) <= MAX_TITLE_CHARS
        for text in _descriptions(tool):
            assert len(text) <= MAX_DESCRIPTION_CHARS
    stats = tools["text_tools_word_stats"]
    assert stats["description"].endswith("\u2026")
    assert stats["description"].startswith("All work and no play.")
    assert stats["inputSchema"]["properties"]["text"]["description"].endswith("\u2026")
    assert stats["outputSchema"]["properties"]["words"]["description"].endswith("\u2026")
    # The agent's text is cut, the approval note kept whole.
    signing = tools["text_tools_sign_message"]
    assert len(signing["description"]) == MAX_DESCRIPTION_CHARS
    assert signing["description"].endswith("\u2026" + APPROVAL)
    # The whole guidelines are a resource; the instructions hold their start.
    assert len(instructions) < MAX_GUIDELINES_CHARS + 2 * MAX_TITLE_CHARS + 300
    assert "(cut: the whole text is the resource viksa://agent/agt1/guidelines)" in instructions


@pytest.mark.parametrize(
    ("tool", "key", "count"),
    [
        ("text_tools_word_stats", "top", MAX_ENUM_VALUES + 1),
        ("text_tools_sign_message", "algorithm", len(MANY) + 1),
    ],
)
async def test_too_many_allowed_values_are_not_listed(
    hostile: Any, tool: str, key: str, count: int
) -> None:
    tools, _ = await _listed(hostile)
    prop = tools[tool]["inputSchema"]["properties"][key]
    assert "enum" not in prop
    assert prop["description"].endswith(
        f"One of {count} allowed values, too many to list here: a call with another is refused"
    )


async def test_allowed_values_not_listed_are_still_checked(hostile: Any) -> None:
    bridge = BridgeServer(hostile, refresh_interval=0)
    await bridge.refresh()
    tool = "text_tools_sign_message"
    refused = await bridge.call_tool(tool, {"message": "hello", "algorithm": "md5"})
    assert refused.is_error
    assert hostile.calls == []
    await bridge.call_tool(tool, {"message": "hello", "algorithm": MANY[-1]})
    assert hostile.calls == [(tool, {"message": "hello", "algorithm": MANY[-1]})]


async def test_allowed_values_too_long_to_list_are_dropped_and_short_ones_kept(
    hostile: Any,
) -> None:
    tools, _ = await _listed(hostile)
    slug = next(tool for name, tool in tools.items() if name.startswith("text_tools_s" + "s"))
    assert "enum" not in slug["inputSchema"]["properties"]["separator"]
    message = tools["text_tools_sign_message"]["inputSchema"]["properties"]["message"]
    assert message["enum"] == ["hello", "bye"]


async def test_a_pattern_or_default_too_long_to_list_is_dropped_and_said(
    backend: Any, make_doc: Callable[..., dict[str, Any]]
) -> None:
    doc = make_doc()
    inputs = {item["name"]: item for item in doc["inputs"]}
    inputs["message"]["pattern"] = "(a|b)" * MAX_PATTERN_CHARS
    inputs["message"]["default"] = "d" * (MAX_DEFAULT_CHARS + 1)
    inputs["algorithm"]["pattern"] = "^[a-z0-9]+$"
    inputs["algorithm"]["default"] = "sha256"
    backend.docs = [doc]
    tools, _ = await _listed(backend)
    properties = tools["text_tools_sign_message"]["inputSchema"]["properties"]
    Draft202012Validator.check_schema(tools["text_tools_sign_message"]["inputSchema"])
    message = properties["message"]
    assert "pattern" not in message
    assert "default" not in message
    pattern_note = f"Its pattern ({5 * MAX_PATTERN_CHARS} characters) is too long to list here"
    assert pattern_note in message["description"]
    assert message["description"].endswith("Its default is too long to list here")
    assert len(message["description"]) <= MAX_DESCRIPTION_CHARS
    # Short ones are listed as they are.
    assert (properties["algorithm"]["pattern"], properties["algorithm"]["default"]) == (
        "^[a-z0-9]+$",
        "sha256",
    )


@settings(database=None, derandomize=True, max_examples=300)
@given(
    text=st.text(alphabet=st.characters(codec=None), max_size=40)
    | st.lists(st.sampled_from(["a", "\U0001f600", "\ud83d\ude00", "\ud800", "\u0301"])).map(
        "".join
    ),
    limit=st.integers(min_value=1, max_value=30),
)
def test_a_cut_text_fits_its_limit_and_makes_no_lone_surrogate(text: str, limit: int) -> None:
    cut = cut_text(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
    else:
        assert cut.endswith("\u2026")
        assert text.startswith(cut[:-1])
        assert _lone_surrogates(cut) <= _lone_surrogates(text)


def _lone_surrogates(text: str) -> int:
    count, index = 0, 0
    while index < len(text):
        char = text[index]
        pair = index + 1 < len(text) and "\udc00" <= text[index + 1] <= "\udfff"
        if "\ud800" <= char <= "\udbff" and pair:
            index += 2
            continue
        count += "\ud800" <= char <= "\udfff"
        index += 1
    return count
