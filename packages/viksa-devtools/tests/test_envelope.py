"""validate_a2a_envelope: an A2A envelope against the endpoint it calls."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from viksa_ai.devtools import check_a2a_envelope, validate_a2a_envelope
from viksa_ai.models.a2a import A2AEnvelope
from viksa_ai.models.agent import AgentEndpoint, AgentInput
from viksa_ai.runtime import attach_envelope

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=timezone.utc)
ENDPOINT: dict[str, Any] = {
    "name": "get_flights",
    "module": "main",
    "endpoint": "aviation.main.get_flights",
    "description": "Flights",
    "inputs": [{"input_ref": "source"}, {"input_ref": "limit", "required": False}],
}
INPUTS: list[dict[str, Any]] = [
    {"name": "source", "type": "string", "pattern": "^[A-Z]{3}$"},
    {"name": "limit", "type": "integer", "min_value": 1},
]


def envelope(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "protocol_version": 1,
        "run_id": "run-1",
        "callee_agent": "aviation",
        "endpoint": "aviation.main.get_flights",
        "deadline_at": "2026-01-02T12:05:00Z",
        "payload": {"source": "JFK"},
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not ...}


def codes(env: Any, endpoint: Any = ENDPOINT, inputs: Any = INPUTS) -> list[str]:
    return [issue.code for issue in check_a2a_envelope(env, endpoint, inputs, now=NOW)]


def test_valid_envelope_has_no_issue() -> None:
    assert validate_a2a_envelope(envelope(), ENDPOINT, INPUTS, now=NOW) == []


def test_models_and_the_runtime_helper_work_too() -> None:
    endpoint = AgentEndpoint.model_validate(ENDPOINT)
    inputs = [AgentInput.model_validate(item) for item in INPUTS]
    attached = attach_envelope({"x": 1}, envelope())
    wire = next(value for key, value in attached.items() if key != "x")
    assert validate_a2a_envelope(wire, endpoint, inputs, now=NOW) == []
    model = A2AEnvelope.model_validate(envelope()).model_dump(mode="json")
    assert validate_a2a_envelope(model, endpoint, inputs, now=NOW) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"protocol_version": 2}, ["VX502"]),
        ({"protocol_version": True}, ["VX502"]),
        ({"protocol_version": "1"}, ["VX502"]),
        ({"endpoint": "aviation.main.other"}, ["VX503"]),
        ({"callee_agent": "weather"}, ["VX505"]),
        ({"deadline_at": "2026-01-02T12:00:00Z"}, ["VX504"]),
        ({"deadline_at": "2026-01-02T11:00:00"}, ["VX504"]),
        ({"deadline_at": "tomorrow"}, ["VX501"]),
        ({"run_id": ...}, ["VX501"]),
        # The deadline is checked even when another field makes the envelope invalid.
        ({"run_id": ..., "deadline_at": "2026-01-02T11:00:00Z"}, ["VX501", "VX504"]),
        ({"run_id": ..., "deadline_at": "tomorrow"}, ["VX501", "VX501"]),
        ({"payload": {}}, ["VX401"]),
        ({"payload": {"source": "jfk", "limit": 0}}, ["VX408", "VX404"]),
        ({"payload": "source=JFK"}, ["VX501"]),
        ({"deadline_at": None, "protocol_version": ...}, []),
    ],
)
def test_each_problem_has_its_code(changes: dict[str, Any], expected: list[str]) -> None:
    assert codes(envelope(**changes)) == expected


def test_messages_read_location_code_message() -> None:
    issues = validate_a2a_envelope(envelope(payload={}), ENDPOINT, INPUTS, now=NOW)
    assert issues == ["payload.source: VX401 required input 'source' is missing: provide a value"]


def test_endpoint_without_full_path_matches_module_and_name() -> None:
    partial = {**ENDPOINT, "endpoint": ""}
    assert codes(envelope(), partial) == []
    assert codes(envelope(endpoint="other.main.get_flights", callee_agent="other"), partial) == []
    assert codes(envelope(endpoint="main.get_flights"), partial) == ["VX503"]


def test_deadline_uses_the_current_time_by_default() -> None:
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    assert validate_a2a_envelope(envelope(deadline_at=future), ENDPOINT, INPUTS) == []
    assert [i.code for i in check_a2a_envelope(envelope(deadline_at=past), ENDPOINT, INPUTS)] == [
        "VX504"
    ]


def test_naive_now_is_taken_as_utc() -> None:
    naive_now = datetime(2026, 1, 2, 12, 10)
    issues = check_a2a_envelope(envelope(), ENDPOINT, INPUTS, now=naive_now)
    assert [issue.code for issue in issues] == ["VX504"]


def test_not_an_object_and_bad_endpoint_spec() -> None:
    assert codes(["run-1"]) == ["VX501"]
    assert "VX002" in codes(envelope(), {"name": "get_flights"})


def test_huge_protocol_version_is_reported_not_raised() -> None:
    issues = validate_a2a_envelope(envelope(protocol_version=10**5000), ENDPOINT, INPUTS, now=NOW)
    assert len(issues) == 1
    assert "VX502" in issues[0]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    ["protocol_version", "run_id", "callee_agent", "endpoint", "deadline_at", "payload", "x"]
)


@given(st.dictionaries(FIELDS, JSON), JSON)
def test_any_envelope_gives_strings_never_exceptions(env: dict[str, Any], endpoint: Any) -> None:
    for spec in (ENDPOINT, endpoint):
        issues = validate_a2a_envelope(env, spec, INPUTS, now=NOW)
        assert all(re.search(r"\bVX\d{3} ", issue) for issue in issues)


@given(st.dictionaries(FIELDS, JSON).map(lambda changes: envelope(**changes)))
def test_mutated_valid_envelopes_never_raise(env: dict[str, Any]) -> None:
    assert isinstance(validate_a2a_envelope(env, ENDPOINT, INPUTS, now=NOW), list)


def test_bounds_too_long_to_print_are_reported_not_raised() -> None:
    inputs = [*INPUTS[:1], {"name": "limit", "type": "integer", "min_value": 10**5000}]
    issues = validate_a2a_envelope(
        envelope(payload={"source": "JFK", "limit": 3}), ENDPOINT, inputs, now=NOW
    )
    assert issues == ["payload.limit: VX404 input 'limit' must be at least (too long to print)"]


def test_every_input_constraint_reaches_the_envelope_strings() -> None:
    endpoint = {
        **ENDPOINT,
        "inputs": [{"input_ref": name} for name in ("source", "limit", "mode", "tags")],
    }
    inputs: list[dict[str, Any]] = [
        {"name": "source", "type": "string", "min_length": 3, "max_length": 3},
        {"name": "limit", "type": "integer", "max_value": 10},
        {"name": "mode", "type": "string", "allowed_values": ["fast", "deep"]},
        {"name": "tags", "type": "list"},
    ]
    payload: dict[str, Any] = {"source": "JFKX", "limit": 11, "mode": "slow", "tags": "a,b"}
    issues = validate_a2a_envelope(envelope(payload=payload), endpoint, inputs, now=NOW)
    assert [issue.split(" ", 2)[:2] for issue in issues] == [
        ["payload.source:", "VX407"],
        ["payload.limit:", "VX405"],
        ["payload.mode:", "VX403"],
        ["payload.tags:", "VX402"],
    ]
    short = validate_a2a_envelope(
        envelope(payload={**payload, "source": "JF"}), endpoint, inputs, now=NOW
    )
    assert short[0].startswith("payload.source: VX406 input 'source' must have at least 3")
    assert all("JFKX" not in issue and "slow" not in issue for issue in issues)  # no values


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"payload": {"source": "JFK", "note": "a\ud800b"}}, "payload.note"),
        ({"payload": {"source": "JFK", "limit": float("nan")}}, "payload.limit"),
        ({"metadata": {"score": float("inf")}}, "metadata.score"),
        ({"payload": {"source": "JFK", "tags": ["ok", "\udfff"]}}, "payload.tags[1]"),
    ],
)
def test_values_the_platform_refuses_at_its_edge_are_reported(
    changes: dict[str, Any], where: str
) -> None:
    # The platform answers such an envelope 422 before it runs anything (strict JSON).
    issues = check_a2a_envelope(envelope(**changes), ENDPOINT, INPUTS, now=NOW)
    (found,) = [issue for issue in issues if issue.path == where and issue.code == "VX501"]
    assert found.message.startswith(f"the A2A envelope's {where}: ")
    assert "\ud800" not in found.message
    assert "\udfff" not in found.message
