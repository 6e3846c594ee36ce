"""The server's instructions stay bounded in total, however many agents have guidelines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from viksa_ai.mcp_bridge import build_registry
from viksa_ai.mcp_bridge._registry import MAX_GUIDELINES_CHARS, MAX_INSTRUCTIONS_CHARS

MakeDoc = Callable[..., dict[str, Any]]


def _agents(make_doc: MakeDoc, count: int, guidelines: str) -> list[dict[str, Any]]:
    docs = []
    for n in range(count):
        doc = make_doc(f"agt{n}", f"tools_{n}")
        doc["agent_name"] = f"Agent {n}"
        doc["ai_guidelines"] = guidelines
        docs.append(doc)
    return docs


def test_many_agents_guidelines_stop_at_the_total_cap_and_name_the_rest(
    make_doc: MakeDoc,
) -> None:
    # Each agent within its own cap; twenty of them, four times the total cap.
    docs = _agents(make_doc, 20, "Use these tools with care. " * (MAX_GUIDELINES_CHARS // 28))
    text = build_registry(docs).instructions()
    assert len(text) <= MAX_INSTRUCTIONS_CHARS
    kept = [n for n in range(20) if f"## Agent {n} (tools_{n})" in text]
    assert kept == list(range(len(kept)))  # the first ones, in order
    assert 0 < len(kept) < 20
    assert "## Guidelines left out" in text
    for n in range(len(kept), 20):
        assert f"- Agent {n} (tools_{n}): viksa://agent/agt{n}/guidelines" in text
    assert f"the guidelines of {20 - len(kept)} agent(s) are not in them" in text


def test_a_thousand_agents_list_what_fits_and_count_the_rest(make_doc: MakeDoc) -> None:
    docs = _agents(make_doc, 1000, "Be brief. " * 100)
    text = build_registry(docs).instructions()
    assert len(text) <= MAX_INSTRUCTIONS_CHARS
    listed = text.count(": viksa://agent/")
    kept = text.count("\n## Agent ")
    assert kept > 0
    assert listed > 0
    more = 1000 - kept - listed
    assert more > 0
    assert f"- and {more} more: resources/list names each agent's guidelines" in text


def test_a_long_guideline_left_out_leaves_room_for_shorter_ones(make_doc: MakeDoc) -> None:
    docs = _agents(make_doc, 5, "Long. " * (MAX_GUIDELINES_CHARS // 6))
    docs[4]["ai_guidelines"] = "Short."
    text = build_registry(docs).instructions()
    assert len(text) <= MAX_INSTRUCTIONS_CHARS
    assert "## Agent 4 (tools_4)\nShort." in text
    assert "- Agent 3 (tools_3): viksa://agent/agt3/guidelines" in text


def test_guidelines_within_the_total_cap_are_all_kept_without_a_note(make_doc: MakeDoc) -> None:
    docs = _agents(make_doc, 3, "Be brief.")
    text = build_registry(docs).instructions()
    assert all(f"## Agent {n} (tools_{n})\nBe brief." in text for n in range(3))
    assert "left out" not in text
