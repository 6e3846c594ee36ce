"""A2A envelope and response: protocol version 1, defaults, deadlines and extras."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from viksa_ai.models.a2a import A2A_PROTOCOL_VERSION, A2AEnvelope, A2AResponse, A2AStatus

ENVELOPE: dict[str, Any] = {
    "run_id": "run-1",
    "callee_agent": "aviation_agent",
    "endpoint": "aviation_agent.main.get_flights_between",
}


def test_protocol_version_is_one() -> None:
    assert A2A_PROTOCOL_VERSION == 1


def test_envelope_defaults() -> None:
    envelope = A2AEnvelope.model_validate(ENVELOPE)

    assert envelope.protocol_version == A2A_PROTOCOL_VERSION
    assert envelope.payload == {}
    assert envelope.metadata == {}
    assert envelope.deadline_at is None
    assert envelope.to_wire()["protocol_version"] == 1


@pytest.mark.parametrize("version", [0, 2, "1", True, 1.5, None])
def test_other_protocol_versions_are_rejected(version: object) -> None:
    for model_type, data in ((A2AEnvelope, ENVELOPE), (A2AResponse, {"status": "ok"})):
        with pytest.raises(ValidationError) as exc:
            model_type.model_validate({**data, "protocol_version": version})

        [error] = exc.value.errors()
        assert error["loc"] == ("protocol_version",)


@pytest.mark.parametrize("missing", ["run_id", "callee_agent", "endpoint"])
def test_envelope_required_fields_are_named(missing: str) -> None:
    data = {key: value for key, value in ENVELOPE.items() if key != missing}
    with pytest.raises(ValidationError) as exc:
        A2AEnvelope.model_validate(data)

    [error] = exc.value.errors()
    assert error["loc"] == (missing,)


def test_deadline_is_parsed_as_an_aware_datetime() -> None:
    envelope = A2AEnvelope.model_validate({**ENVELOPE, "deadline_at": "2026-01-01T10:00:30+02:00"})

    assert envelope.deadline_at == datetime(2026, 1, 1, 8, 0, 30, tzinfo=timezone.utc)
    assert envelope.deadline_at.utcoffset() == timedelta(hours=2)
    assert envelope.to_wire()["deadline_at"] == "2026-01-01T10:00:30+02:00"


def test_deadline_must_be_a_datetime() -> None:
    with pytest.raises(ValidationError) as exc:
        A2AEnvelope.model_validate({**ENVELOPE, "deadline_at": "next tuesday"})

    [error] = exc.value.errors()
    assert error["loc"] == ("deadline_at",)


def test_envelope_keeps_unknown_fields() -> None:
    envelope = A2AEnvelope.model_validate({**ENVELOPE, "priority": "high"})

    assert envelope.model_extra == {"priority": "high"}
    assert envelope.to_wire()["priority"] == "high"


@pytest.mark.parametrize("status", list(A2AStatus))
def test_every_status_parses(status: A2AStatus) -> None:
    response = A2AResponse.model_validate({"status": status.value})

    assert response.status is status
    assert response.to_wire()["status"] == status.value


def test_response_defaults() -> None:
    response = A2AResponse.model_validate({"status": "ok"})

    assert response.protocol_version == 1
    assert (response.payload, response.error, response.tokens) == (None, None, None)
    assert (response.latency_ms, response.cost_usd) == (None, None)


def test_unknown_status_is_named() -> None:
    with pytest.raises(ValidationError) as exc:
        A2AResponse.model_validate({"status": "exploded"})

    [error] = exc.value.errors()
    assert error["loc"] == ("status",)
    assert error["type"] == "enum"
