"""inputSchema / outputSchema from the agent's declarations, and the checks made with them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs

from viksa_ai.mcp_bridge import agent_doc_to_tools
from viksa_ai.mcp_bridge._names import short_suffix
from viksa_ai.mcp_bridge._schema import argument_keys, input_schema, output_schema, schema_errors

_DOC = json.loads(
    (
        Path(__file__).resolve().parents[3] / "examples" / "text_tools_agent" / "agent.json"
    ).read_text()
)


def _tool(name: str) -> Any:
    return next(t for t in agent_doc_to_tools(_DOC) if t.endpoint_name == name)


def test_input_schema_holds_types_required_defaults_and_bounds() -> None:
    assert _tool("word_stats").input_schema == {
        "type": "object",
        "properties": {
            "text": {
                "type": "string",
                "description": "The text to work on",
                "minLength": 1,
                "maxLength": 10000,
            },
            "top": {
                "type": "integer",
                "description": "How many of the most frequent words to list",
                "default": 5,
                "minimum": 1,
                "maximum": 50,
            },
        },
        "additionalProperties": False,
        "required": ["text"],
    }


def test_allowed_values_become_an_enum_and_patterns_stay() -> None:
    sign = _tool("sign_message").input_schema["properties"]
    assert sign["algorithm"]["enum"] == ["sha256", "sha512"]
    assert _tool("slugify").input_schema["properties"]["separator"]["pattern"] == "^[-_.]$"


def test_mapping_hints_join_the_description() -> None:
    endpoint = {"inputs": [{"input_ref": "city", "required": False}]}
    inputs = {"city": {"name": "city", "type": "STRING", "description": "Where."}}
    schema = input_schema(endpoint, inputs, {"city": {"source": "user.profile.city"}})
    assert schema["properties"]["city"] == {
        "type": "string",
        "description": "Where. Mapping: source: user.profile.city",
    }
    assert "required" not in schema


def test_lengths_of_lists_and_dicts_bound_items_and_keys() -> None:
    endpoint = {"inputs": [{"input_ref": "tags"}, {"input_ref": "meta"}]}
    inputs = {
        "tags": {"name": "tags", "type": "list", "min_length": 1, "max_length": 3},
        "meta": {"name": "meta", "type": "dict", "max_length": 2},
    }
    props = input_schema(endpoint, inputs)["properties"]
    assert props["tags"] == {"type": "array", "minItems": 1, "maxItems": 3}
    assert props["meta"] == {"type": "object", "maxProperties": 2}


def test_output_schema_from_the_declared_outputs_nullable_ones_allow_null() -> None:
    schema = _tool("word_stats").output_schema
    assert schema is not None
    assert schema["type"] == "object"
    assert schema["properties"]["words"]["type"] == "integer"
    assert schema["properties"]["run_id"]["type"] == ["string", "null"]
    assert output_schema({"outputs": []}, {}) is None


def test_schema_errors_name_the_argument_and_the_problem() -> None:
    schema = _tool("word_stats").input_schema
    assert schema_errors(schema, {"text": "hi", "top": 3}) == []
    problems = schema_errors(schema, {"top": 0, "extra": 1})
    assert any("'text' is a required property" in p for p in problems)
    assert any(p.startswith("top: 0 is less than the minimum of 1") for p in problems)
    assert any("'extra' was unexpected" in p for p in problems)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(database=None, derandomize=True, max_examples=200)
@given(_JSON)
def test_any_json_arguments_give_a_list_of_problems(arguments: object) -> None:
    problems = schema_errors(_tool("sign_message").input_schema, arguments)
    assert isinstance(arguments, dict) or problems  # only an object can be valid
    assert all(problem for problem in problems)


def _one_input(declared: dict[str, Any], refs: int = 1) -> dict[str, Any]:
    endpoint = {"inputs": [{"input_ref": "v"}] * refs}
    return input_schema(endpoint, {"v": {"name": "v", **declared}})


def test_a_pattern_is_advertised_but_left_to_the_platform() -> None:
    # ^(a|aa)+$ backtracks for minutes on 50 characters and an invalid pattern raises:
    # the bridge's own check would hold the event loop (every client) or fail the call.
    for pattern in ("^(a|aa)+$", "(unclosed"):
        schema = _one_input({"type": "string", "pattern": pattern})
        assert schema["properties"]["v"]["pattern"] == pattern
        assert schema_errors(schema, {"v": "a" * 20 + "!"}) == []  # short: fails fast before
        assert schema_errors(schema, {"v": 5}) == ["v: 5 is not of type 'string'"]


def test_a_problem_never_quotes_a_whole_huge_value() -> None:
    long_text = _one_input({"type": "string", "max_length": 10})
    [problem] = schema_errors(long_text, {"v": "x" * 1_000_000})
    assert len(problem) < 400
    assert problem.startswith("v: 'xxx")
    assert problem.endswith("is too long")
    many_values = _one_input({"type": "integer", "allowed_values": list(range(100_000))})
    [problem] = schema_errors(many_values, {"v": -1})
    assert len(problem) < 400
    assert problem.startswith("v: -1 is not one of [0, 1, 2")
    inputs = {f"n{i}": {"name": f"n{i}", "type": "integer"} for i in range(25)}
    endpoint = {"inputs": [{"input_ref": name} for name in inputs]}
    problems = schema_errors(input_schema(endpoint, inputs), dict.fromkeys(inputs, "x"))
    assert len(problems) == 11
    assert problems[-1] == "and 15 more problem(s)"


def test_a_huge_wrong_argument_builds_a_bounded_number_of_problems() -> None:
    # jsonschema builds each problem's text (the value's repr and every allowed value's)
    # as it finds it: 100,000 wrong items (a 1 MB call) held the event loop, every
    # client's calls and the refresh, for seconds, for ten lines shown.
    reprs = 0

    class Item(str):
        def __repr__(self) -> str:
            nonlocal reprs
            reprs += 1
            return str.__repr__(self)

    schema = {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"enum": ["a", "b"]}}},
    }
    problems = schema_errors(schema, {"tags": [Item(f"x{i}") for i in range(20_000)]})
    assert reprs <= 2_000
    assert len(problems) == 11
    # Items in their order: tags.2 before tags.10.
    assert [problem.partition(":")[0] for problem in problems[:10]] == [
        f"tags.{i}" for i in range(10)
    ]
    assert problems[0] == "tags.0: 'x0' is not one of ['a', 'b']"
    assert problems[-1] == "and at least 990 more problem(s)"


def test_hostile_declarations_still_give_a_valid_json_schema() -> None:
    # An input referenced twice, lengths that are bools or negative: JSON Schema wants
    # unique `required` names and non-negative integer lengths (clients check schemas).
    cases: list[tuple[dict[str, Any], int]] = [
        ({"type": "string"}, 2),
        ({"type": "string", "min_length": True, "max_length": -1}, 1),
        ({"type": "list", "min_length": -3, "max_length": False}, 1),
    ]
    for declared, refs in cases:
        schema = _one_input(declared, refs)
        Draft202012Validator.check_schema(schema)
        assert schema["required"] == ["v"]


def test_every_property_key_is_one_every_client_takes() -> None:
    # Anthropic's API refuses every request of a session once one tool has a property
    # key outside [A-Za-z0-9_.-]{1,64}; an input name is a payload key: any text.
    names = ["größe", "user name", "x" * 80, "x" * 81, "ok_name", "a.b-c", "日本", "$"]
    endpoint = {"inputs": [{"input_ref": name} for name in names]}
    inputs = {name: {"name": name, "type": "string", "description": "Say."} for name in names}
    keys = argument_keys(endpoint)
    assert keys == argument_keys(endpoint)  # stable
    assert (keys["ok_name"], keys["a.b-c"]) == ("ok_name", "a.b-c")
    assert len(set(keys.values())) == len(names)
    schema = input_schema(endpoint, inputs)
    assert list(schema["properties"]) == list(keys.values()) == schema["required"]
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", key) for key in schema["properties"])
    assert keys["user name"].startswith("user_name_")
    assert schema["properties"][keys["größe"]]["description"] == "The input named 'größe'. Say"


def test_a_safe_key_never_takes_another_inputs_name() -> None:
    # A hostile manifest can name an input like another input's safe key.
    lookalike = "user_name_" + short_suffix("user name")
    keys = argument_keys({"inputs": [{"input_ref": "user name"}, {"input_ref": lookalike}]})
    assert keys[lookalike] == lookalike
    assert keys["user name"] not in (lookalike, "user name")
    assert keys["user name"].startswith("user_name_")
