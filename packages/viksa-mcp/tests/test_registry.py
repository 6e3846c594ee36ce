"""Agent documents -> tools: enabled endpoints only, unique names, guidelines, mappings."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from viksa_ai.mcp_bridge import BridgeRegistry, ViksaToolSpec, agent_doc_to_tools, build_registry
from viksa_ai.mcp_bridge._names import short_suffix
from viksa_ai.mcp_bridge._registry import guidelines_text

MakeDoc = Callable[..., dict[str, Any]]


def test_one_tool_per_enabled_endpoint(make_doc: MakeDoc) -> None:
    doc = make_doc()
    doc["agent_endpoints"][2]["status"] = "disabled"
    tools = agent_doc_to_tools(doc)
    assert [t.name for t in tools] == ["text_tools_word_stats", "text_tools_slugify"]
    word_stats = tools[0]
    assert isinstance(word_stats, ViksaToolSpec)
    assert (word_stats.agent_id, word_stats.endpoint_path) == ("agt1", "text_tools.main.word_stats")
    assert word_stats.timeout_seconds == 5


def test_a_disabled_agent_has_no_tools(make_doc: MakeDoc) -> None:
    assert agent_doc_to_tools({**make_doc(), "status": "disabled"}) == []


def test_a_secure_agent_sends_its_first_queue(make_doc: MakeDoc) -> None:
    doc = {**make_doc(), "agent_type": "secure", "chrona_queue": {"chrona_queues": ["q1"]}}
    tool = agent_doc_to_tools(doc)[0]
    assert (tool.agent_type, tool.task_queue) == ("secure", "q1")


def test_colliding_names_get_a_stable_suffix_each(make_doc: MakeDoc) -> None:
    docs = [make_doc("agt1", "tools-x"), make_doc("agt2", "tools_x")]
    first = build_registry(docs)
    names = first.names()
    assert len(names) == 6
    assert all(name.startswith("tools_x_") and len(name.rsplit("_", 1)[1]) == 6 for name in names)
    assert build_registry(list(reversed(docs))).names() == names
    assert {first.tools[n].agent_id for n in names} == {"agt1", "agt2"}


def test_guidelines_make_the_instructions(make_doc: MakeDoc) -> None:
    doc = make_doc()
    doc["ai_guidelines"] = ["Be brief.", "Never guess."]
    registry = build_registry([doc], [{"agent_id": "agt1"}])
    assert "- Be brief.\n- Never guess." in registry.instructions()
    assert registry.agents["agt1"].agent_name == "Text Tools"
    assert registry.mappings == [{"agent_id": "agt1"}]
    assert guidelines_text({"tone": "dry"}) == "- tone: dry"
    assert guidelines_text(None) == ""


def test_the_fingerprint_changes_with_what_a_client_sees(make_doc: MakeDoc) -> None:
    registry = build_registry([make_doc()])
    changed = make_doc()
    changed["agent_endpoints"][0]["description"] = "Count words"
    assert build_registry([make_doc()]).fingerprint() == registry.fingerprint()
    assert build_registry([changed]).fingerprint() != registry.fingerprint()
    assert BridgeRegistry().fingerprint() == ""


BROKEN_DOCS: dict[str, Any] = {
    "endpoint without a name": {"agent_endpoints": [{"module": "main"}]},
    "queues not an object": {"chrona_queue": ["q"], "agent_endpoints": [{"name": "x"}]},
    "config not an object": {"agent_endpoints": [{"name": "x", "execution_config": [1]}]},
    "timeout not a number": {
        "agent_endpoints": [{"name": "x", "execution_config": {"timeout_seconds": "soon"}}]
    },
    "not an object at all": "garbage",
}


def test_one_broken_agent_document_leaves_the_others_tools(make_doc: MakeDoc, caplog: Any) -> None:
    # A platform (or an agent) that answers garbage for one agent must not take every
    # other agent's tools away: the broken one is skipped and logged.
    broken = [
        {"id": f"bad{i}", "agent_alias": "bad", **doc} if isinstance(doc, dict) else doc
        for i, doc in enumerate(BROKEN_DOCS.values())
    ]
    registry = build_registry([*broken, make_doc()])
    assert registry.names() == sorted(t.name for t in agent_doc_to_tools(make_doc()))
    assert list(registry.agents) == ["agt1"]
    assert caplog.text.count("skipped") == len(BROKEN_DOCS)


def _agent(agent_id: str, alias: str, *endpoints: dict[str, Any]) -> dict[str, Any]:
    return {"id": agent_id, "agent_alias": alias, "agent_endpoints": list(endpoints)}


def test_no_tool_is_lost_to_a_name_collision_whatever_the_order() -> None:
    # Two agents' `x_y` get suffixes; a third agent's endpoint is named like one of
    # those suffixed names, and one agent has two endpoints `y` in two modules.
    suffixed = "y_" + short_suffix("A", "y")
    docs = [
        _agent("A", "x", {"name": "y"}),
        _agent("B", "x", {"name": "y"}),
        _agent("C", "x", {"name": suffixed}),
        _agent("D", "z", {"name": "y", "module": "main"}, {"name": "y", "module": "other"}),
    ]
    first = build_registry(docs)
    assert len(first.tools) == 5
    assert first.tools[f"x_{suffixed}"].agent_id == "C"  # its own name, kept
    paths = {(spec.agent_id, spec.endpoint_path) for spec in first.tools.values()}
    assert ("D", "z.main.y") in paths
    assert ("D", "z.other.y") in paths
    assert build_registry(list(reversed(docs))).names() == first.names()


def test_an_agent_listed_twice_keeps_its_plain_names(make_doc: MakeDoc) -> None:
    # Offset pages that shift while they are read can list an agent twice.
    registry = build_registry([make_doc(), make_doc()])
    assert registry.names() == build_registry([make_doc()]).names()


def test_an_infinite_timeout_costs_its_own_agent_only(make_doc: MakeDoc) -> None:
    # Python's json reads Infinity, which no int() takes.
    broken = _agent("bad", "bad", {"name": "x", "execution_config": {"timeout_seconds": 1e999}})
    registry = build_registry([broken, make_doc()])
    assert list(registry.agents) == ["agt1"]
    assert len(registry.tools) == 3


def test_lone_surrogates_of_a_document_never_reach_the_wire(make_doc: MakeDoc) -> None:
    # JSON's "\ud800" decodes to a str UTF-8 cannot encode: one such description made the
    # SDK's stdio writer raise on tools/list (or on initialize's instructions) and ended
    # the bridge for every agent it served.
    doc = make_doc()
    doc["agent_name"] = "Bad \ud800 name"
    doc["ai_guidelines"] = ["Use \udfff carefully"]
    doc["agent_endpoints"][0]["description"] = "Count \ud800 words"
    doc["inputs"][0]["description"] = "The \ud801 text"
    registry = build_registry([doc])
    seen = [
        registry.instructions(),
        *(info.guidelines for info in registry.agents.values()),
        *(
            [spec.name, spec.description, spec.input_schema, spec.output_schema]
            for spec in registry.tools.values()
        ),
    ]
    # What stdio writes: UTF-8, which refuses a lone surrogate.
    json.dumps(seen, ensure_ascii=False).encode("utf-8")
    assert "Count \\ud800 words" in registry.tools["text_tools_word_stats"].description
