"""check_inputs: call inputs against an endpoint's declared inputs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from viksa_ai.devtools import Issue, check_inputs
from viksa_ai.devtools.validate._inputs import check_value
from viksa_ai.models.agent import AgentEndpoint, AgentInput

ENDPOINT: dict[str, Any] = {
    "name": "search",
    "module": "main",
    "description": "Search",
    "inputs": [
        {"input_ref": "query"},
        {"input_ref": "limit", "required": False},
        {"input_ref": "mode", "required": False},
        {"input_ref": "tags", "required": False},
        {"input_ref": "ratio", "required": False},
        {"input_ref": "strict", "required": False},
        {"input_ref": "options", "required": False},
    ],
}
INPUTS: list[dict[str, Any]] = [
    {"name": "query", "type": "string", "min_length": 2, "max_length": 5, "pattern": "^[a-z]+$"},
    {"name": "limit", "type": "integer", "min_value": 1, "max_value": 10},
    {"name": "mode", "type": "String", "allowed_values": ["fast", "deep"]},
    {"name": "tags", "type": "list", "max_length": 2, "allowed_values": [["a"], [1, True]]},
    {"name": "ratio", "type": "float", "min_value": 0, "max_value": 1},
    {"name": "strict", "type": "boolean"},
    {"name": "options", "type": "dict", "min_length": 1},
]


def codes(issues: list[Issue]) -> list[str]:
    return [issue.code for issue in issues]


def test_valid_values_give_no_issue() -> None:
    values = {
        "query": "abc",
        "limit": 10,
        "mode": "deep",
        "tags": ["a"],
        "ratio": 0.5,
        "strict": False,
        "options": {"k": 1},
    }
    assert check_inputs(values, ENDPOINT, INPUTS) == []


def test_models_are_accepted_like_dicts() -> None:
    endpoint = AgentEndpoint.model_validate(ENDPOINT)
    specs = [AgentInput.model_validate(item) for item in INPUTS]
    assert codes(check_inputs({"limit": 0}, endpoint, specs)) == ["VX401", "VX404"]


@pytest.mark.parametrize(
    ("values", "code", "name"),
    [
        ({}, "VX401", "query"),
        ({"query": None}, "VX401", "query"),
        ({"query": 5}, "VX402", "query"),
        ({"query": "a"}, "VX406", "query"),
        ({"query": "abcdef"}, "VX407", "query"),
        ({"query": "ABC"}, "VX408", "query"),
        ({"query": "ab", "limit": True}, "VX402", "limit"),
        ({"query": "ab", "limit": 1.0}, "VX402", "limit"),
        ({"query": "ab", "limit": 0}, "VX404", "limit"),
        ({"query": "ab", "limit": 11}, "VX405", "limit"),
        ({"query": "ab", "mode": "slow"}, "VX403", "mode"),
        ({"query": "ab", "tags": [True]}, "VX403", "tags"),
        ({"query": "ab", "ratio": float("nan")}, "VX402", "ratio"),
        ({"query": "ab", "ratio": 2}, "VX405", "ratio"),
        ({"query": "ab", "ratio": "0.5"}, "VX402", "ratio"),
        ({"query": "ab", "strict": 1}, "VX402", "strict"),
        ({"query": "ab", "options": []}, "VX402", "options"),
        ({"query": "ab", "options": {}}, "VX406", "options"),
    ],
)
def test_each_constraint_is_reported(values: dict[str, Any], code: str, name: str) -> None:
    issues = check_inputs(values, ENDPOINT, INPUTS)
    assert [(issue.code, issue.input) for issue in issues] == [(code, name)]
    assert issues[0].severity == "error"
    assert name in issues[0].message


def test_allowed_values_compare_as_json() -> None:
    # [1, True] is allowed; [1, 1] is not, although 1 == True in Python.
    assert check_inputs({"query": "ab", "tags": [1, True]}, ENDPOINT, INPUTS) == []
    assert codes(check_inputs({"query": "ab", "tags": [1, 1]}, ENDPOINT, INPUTS)) == ["VX403"]
    too_long = check_inputs({"query": "ab", "tags": ["a", "b", "c"]}, ENDPOINT, INPUTS)
    assert codes(too_long) == ["VX403", "VX407"]


def test_type_mismatch_hides_the_constraints_of_that_value() -> None:
    issues = check_inputs({"query": ["x"] * 10}, ENDPOINT, INPUTS)
    assert codes(issues) == ["VX402"]


def test_messages_never_quote_the_value() -> None:
    secret = "s3cr3t-Value-XYZ"
    issues = check_inputs({"query": secret}, ENDPOINT, INPUTS)
    assert codes(issues) == ["VX407", "VX408"]
    assert all(secret not in str(issue) for issue in issues)


def test_path_prefix_and_unreferenced_keys() -> None:
    issues = check_inputs({"limit": 0, "other": object()}, ENDPOINT, INPUTS, path_prefix="payload")
    assert [issue.path for issue in issues] == ["payload.query", "payload.limit"]


def test_a_declared_default_satisfies_a_required_input() -> None:
    endpoint = {"name": "e", "module": "main", "description": "d", "inputs": [{"input_ref": "n"}]}
    with_default = [{"name": "n", "type": "integer", "default": 3}]
    assert check_inputs({}, endpoint, with_default) == []
    assert codes(check_inputs({}, endpoint, [{"name": "n", "type": "integer"}])) == ["VX401"]


def test_reference_to_an_undeclared_input_checks_presence_only() -> None:
    endpoint = {"name": "e", "module": "main", "description": "d", "inputs": [{"input_ref": "x"}]}
    assert check_inputs({"x": object()}, endpoint, []) == []
    assert codes(check_inputs({}, endpoint, None)) == ["VX401"]


def test_invalid_pattern_is_reported_not_raised() -> None:
    endpoint = {"name": "e", "module": "main", "description": "d", "inputs": [{"input_ref": "x"}]}
    issues = check_inputs({"x": "a"}, endpoint, [{"name": "x", "type": "string", "pattern": "("}])
    assert codes(issues) == ["VX409"]


def test_malformed_specs_become_issues() -> None:
    hostile: Any = [3, {"name": "a"}]
    issues = check_inputs({}, {"name": 1}, hostile)
    assert {issue.path for issue in issues} >= {
        "endpoint.name",
        "endpoint.module",
        "agent_inputs[0]",
        "agent_inputs[1].type",
    }
    not_an_object: Any = "nope"
    assert codes(check_inputs({}, not_an_object, [])) == ["VX003"]
    not_a_list: Any = {"name": "x"}
    assert "VX003" in codes(check_inputs({}, ENDPOINT, not_a_list))


def test_values_that_are_not_a_mapping() -> None:
    values: Any = ["query"]
    issues = check_inputs(values, ENDPOINT, INPUTS)
    assert codes(issues) == ["VX003"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from([i["name"] for i in INPUTS] + ["x"]), JSON))
def test_any_json_values_give_issues_never_exceptions(values: dict[str, Any]) -> None:
    issues = check_inputs(values, ENDPOINT, INPUTS)
    assert all(issue.is_error and issue.code.startswith("VX4") for issue in issues)
    names = {issue.input for issue in issues}
    assert names <= {i["name"] for i in INPUTS}


@given(JSON, st.lists(JSON, max_size=3), JSON)
def test_any_json_specs_give_issues_never_exceptions(
    endpoint: Any, inputs: list[Any], values: Any
) -> None:
    issues = check_inputs(values, endpoint, inputs)
    assert all(isinstance(issue, Issue) for issue in issues)


@pytest.mark.parametrize(
    ("spec", "value", "wanted"),
    [
        ({"type": "string", "min_length": 1}, "", "must have at least 1 character"),
        ({"type": "string", "max_length": 1}, "ab", "must have at most 1 character"),
        ({"type": "list", "min_length": 1}, [], "must have at least 1 item"),
        ({"type": "dict", "max_length": 1}, {"a": 1, "b": 2}, "must have at most 1 item"),
        ({"type": "string", "min_length": 3}, "ab", "must have at least 3 characters"),
        ({"type": "list", "max_length": 2}, [1, 2, 3], "must have at most 2 items"),
    ],
)
def test_a_length_bound_is_worded_with_its_count(
    spec: dict[str, Any], value: object, wanted: str
) -> None:
    (issue,) = check_value(value, AgentInput.model_validate({"name": "x", **spec}))
    assert issue.message == f"input 'x' {wanted}"
