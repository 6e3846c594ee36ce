"""Pulse executor models: the README snippet, the secure-agent rule and the envelope."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from viksa_ai.models.a2a import A2AEnvelope
from viksa_ai.models.executor import (
    A2AEnvelopeIn,
    AgentInvokeRequest,
    AgentInvokeResponse,
    AgentType,
    EndpointExecutionRequest,
    EndpointExecutionResponse,
    ExecutionEnvelope,
)

REQUEST: dict[str, Any] = {
    "agent_id": "agt_1",
    "agent_type": "secure",
    "endpoint": "my_agent.main.search",
}


def test_readme_snippet() -> None:
    request = EndpointExecutionRequest(
        agent_id="...",
        agent_type=AgentType.CLOUD,
        endpoint="my_agent.main.search",
        inputs={"query": "flights to LAX"},
    )

    assert request.to_wire() == {
        "agent_id": "...",
        "agent_type": "cloud",
        "endpoint": "my_agent.main.search",
        "inputs": {"query": "flights to LAX"},
        "task_queue": None,
        "timeout": None,
        "envelope": None,
    }


def test_agent_type_is_the_manifest_enum() -> None:
    from viksa_ai.models.agent import AgentType as ManifestAgentType

    assert AgentType is ManifestAgentType


@pytest.mark.parametrize("model_type", [EndpointExecutionRequest, AgentInvokeRequest])
@pytest.mark.parametrize("task_queue", [None, "", "   "])
def test_secure_agents_need_a_task_queue(
    model_type: type[EndpointExecutionRequest] | type[AgentInvokeRequest],
    task_queue: str | None,
) -> None:
    data = dict(REQUEST) if task_queue is None else {**REQUEST, "task_queue": task_queue}
    with pytest.raises(ValidationError) as exc:
        model_type.model_validate(data)

    [error] = exc.value.errors()
    assert error["loc"] == ("task_queue",)
    assert error["type"] == "secure_agent_without_task_queue"
    assert "set it to the queue your secure worker listens on" in error["msg"]


@pytest.mark.parametrize("model_type", [EndpointExecutionRequest, AgentInvokeRequest])
def test_secure_agent_with_a_task_queue_is_valid(
    model_type: type[EndpointExecutionRequest] | type[AgentInvokeRequest],
) -> None:
    request = model_type.model_validate({**REQUEST, "task_queue": "workers"})

    assert request.agent_type is AgentType.SECURE
    assert request.task_queue == "workers"


def test_cloud_agents_need_no_task_queue() -> None:
    request = AgentInvokeRequest.model_validate({**REQUEST, "agent_type": "cloud"})

    assert request.task_queue is None
    assert request.inputs == {}
    assert request.timeout is None


def test_invalid_agent_type_is_named_once() -> None:
    with pytest.raises(ValidationError) as exc:
        EndpointExecutionRequest.model_validate({**REQUEST, "agent_type": "edge"})

    [error] = exc.value.errors()
    assert error["loc"] == ("agent_type",)


def test_requests_reject_unknown_fields_by_name() -> None:
    with pytest.raises(ValidationError) as exc:
        EndpointExecutionRequest.model_validate({**REQUEST, "task_queue": "q", "task_queu": "typo"})

    [error] = exc.value.errors()
    assert error["loc"] == ("task_queu",)
    assert error["type"] == "extra_forbidden"


def test_envelope_defaults_and_errors() -> None:
    envelope = ExecutionEnvelope(run_id="run-1")
    assert envelope.protocol_version == 1
    assert envelope.callee_agent is None

    with pytest.raises(ValidationError) as exc:
        EndpointExecutionRequest.model_validate(
            {**REQUEST, "task_queue": "q", "envelope": {"protocol_version": 2, "run_id": "r"}}
        )
    [error] = exc.value.errors()
    assert error["loc"] == ("envelope", "protocol_version")


def test_envelope_from_a_full_a2a_envelope() -> None:
    full = A2AEnvelope.model_validate(
        {
            "run_id": "run-1",
            "parent_step_id": "step-2",
            "caller_agent": "planner",
            "callee_agent": "aviation_agent",
            "endpoint": "aviation_agent.main.search",
            "idempotency_key": "k",
            "deadline_at": "2026-01-01T10:00:30Z",
            "payload": {"q": 1},
            "metadata": {"m": 2},
        }
    )

    envelope = ExecutionEnvelope.from_a2a(full)

    assert envelope.to_wire() == {
        "protocol_version": 1,
        "run_id": "run-1",
        "parent_step_id": "step-2",
        "caller_agent": "planner",
        "callee_agent": "aviation_agent",
        "idempotency_key": "k",
        "deadline_at": "2026-01-01T10:00:30Z",
    }
    assert A2AEnvelopeIn is ExecutionEnvelope


def test_envelope_takes_a_whole_a2a_envelope_dict() -> None:
    # What an agent forwards from context() or A2AEnvelope.to_wire(): 0.2.x and the
    # platform ignore the A2A fields an execution does not carry, so they are dropped.
    full = A2AEnvelope.model_validate(
        {
            "run_id": "run-1",
            "callee_agent": "aviation_agent",
            "endpoint": "aviation_agent.main.search",
            "deadline_at": "2026-01-01T10:00:30Z",
            "payload": {"q": 1},
            "metadata": {"m": 2},
        }
    )

    request = EndpointExecutionRequest.model_validate(
        {**REQUEST, "task_queue": "q", "envelope": full.to_wire()}
    )

    assert request.envelope == ExecutionEnvelope.from_a2a(full)
    assert set(full.to_wire()) - set(ExecutionEnvelope.model_fields) == {
        "endpoint",
        "payload",
        "metadata",
    }
    with pytest.raises(ValidationError) as exc:  # a misspelt field is still refused
        ExecutionEnvelope.model_validate({"run_id": "r", "metadata": {}, "parent_step": "s"})
    [error] = exc.value.errors()
    assert (error["loc"], error["type"]) == (("parent_step",), "extra_forbidden")


def test_responses_keep_unknown_fields_and_any_response() -> None:
    answer = EndpointExecutionResponse.model_validate(
        {
            "status": "completed",
            "execution_id": "e",
            "endpoint": "a.main.f",
            "response": [1, "two"],
            "trace": "t",
        }
    )
    assert answer.response == [1, "two"]
    assert answer.model_extra == {"trace": "t"}
    assert (answer.error, answer.duration_ms) == (None, None)

    ack = AgentInvokeResponse.model_validate(
        {"status": "accepted", "invocation_id": "i", "endpoint": "a.main.f", "queued": True}
    )
    assert ack.model_extra == {"queued": True}
