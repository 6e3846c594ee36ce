"""What 0.2 code keeps working: the old module paths and the calls they documented."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from typing import Any

import pytest

import viksa_ai.devtools as devtools
from viksa_ai.devtools.validate_agent import AgentValidationError, validate_agent_manifest
from viksa_ai.devtools.validate_envelope import validate_a2a_envelope
from viksa_ai.models.a2a import A2AEnvelope
from viksa_ai.models.agent import AgentEndpoint, AgentInput

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=timezone.utc)
ENDPOINT: dict[str, Any] = {
    "name": "get_flights",
    "module": "main",
    "endpoint": "aviation.main.get_flights",
    "description": "Flights",
    "inputs": [{"input_ref": "source"}],
}
INPUTS: list[dict[str, Any]] = [{"name": "source", "type": "string", "pattern": "^[A-Z]{3}$"}]


def wire_envelope(**changes: Any) -> dict[str, Any]:
    return {
        "protocol_version": 1,
        "run_id": "run-1",
        "callee_agent": "aviation",
        "endpoint": "aviation.main.get_flights",
        "deadline_at": "2026-01-02T12:05:00Z",
        "payload": {"source": "JFK"},
        **changes,
    }


def test_old_paths_re_export_the_package_names() -> None:
    assert validate_agent_manifest is devtools.validate_agent_manifest
    assert AgentValidationError is devtools.AgentValidationError
    assert validate_a2a_envelope is devtools.validate_a2a_envelope


def test_old_paths_import_without_warnings_and_only_on_demand() -> None:
    old = ["viksa_ai.devtools.validate_agent", "viksa_ai.devtools.validate_envelope"]
    code = (
        "import importlib, sys, viksa_ai.devtools\n"
        f"old = {old!r}\n"
        "assert not [m for m in old if m in sys.modules], 'imported by the package'\n"
        "for m in old: importlib.import_module(m)\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_an_envelope_model_is_checked_like_its_wire_form() -> None:
    # 0.2 took an A2AEnvelope model as well as a dict.
    endpoint = AgentEndpoint.model_validate(ENDPOINT)
    inputs = [AgentInput.model_validate(item) for item in INPUTS]
    good = A2AEnvelope.model_validate(wire_envelope())
    assert validate_a2a_envelope(good, endpoint, inputs, now=NOW) == []
    bad = A2AEnvelope.model_validate(wire_envelope(payload={"source": "jfk"}))
    assert validate_a2a_envelope(bad, ENDPOINT, INPUTS, now=NOW) == validate_a2a_envelope(
        wire_envelope(payload={"source": "jfk"}), ENDPOINT, INPUTS, now=NOW
    )
    assert validate_a2a_envelope(bad, ENDPOINT, INPUTS, now=NOW) != []


@pytest.mark.parametrize("deadline", [None, "2026-01-02T11:00:00Z"])
def test_an_envelope_model_deadline_is_checked(deadline: str | None) -> None:
    model = A2AEnvelope.model_validate(wire_envelope(deadline_at=deadline))
    issues = validate_a2a_envelope(model, ENDPOINT, INPUTS, now=NOW)
    assert bool(issues) is (deadline is not None)
    assert all("deadline" in issue for issue in issues)
