"""Models of the pulse executor (``/pulse/executor``): run or invoke an agent endpoint.

Endpoint paths are ``{agent_alias}.{module}.{function}``, e.g. ``my_agent.main.search``.
Requests are closed (an unknown field is rejected, naming it), answers are open.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, SkipValidation, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from viksa_ai.models._base import ClosedModel, OpenModel
from viksa_ai.models._enums import AgentType
from viksa_ai.models.a2a import A2A_PROTOCOL_VERSION, A2AEnvelope, ProtocolVersion
from viksa_ai.models.answers import JSONValue

__all__ = [
    "A2AEnvelopeIn",
    "AgentInvokeRequest",
    "AgentInvokeResponse",
    "AgentType",
    "EndpointExecutionRequest",
    "EndpointExecutionResponse",
    "ExecutionEnvelope",
]


# The A2A envelope fields an execution does not carry. An envelope forwarded whole (from
# context() or A2AEnvelope.to_wire()) holds them; the platform and 0.2.x ignore them.
_A2A_ONLY_FIELDS = frozenset({"endpoint", "payload", "metadata"})


class ExecutionEnvelope(ClosedModel):
    """The A2A correlation data sent with an execution (``deadline_at`` as ISO 8601 text).

    A whole A2A envelope dict is accepted: its ``endpoint``, ``payload`` and ``metadata``
    are dropped. Any other unknown field is refused.
    """

    protocol_version: ProtocolVersion = A2A_PROTOCOL_VERSION
    run_id: str
    parent_step_id: str | None = None
    caller_agent: str | None = None
    callee_agent: str | None = None
    idempotency_key: str | None = None
    deadline_at: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _drop_a2a_only_fields(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not _A2A_ONLY_FIELDS.isdisjoint(data):
            return {key: value for key, value in data.items() if key not in _A2A_ONLY_FIELDS}
        return data

    @classmethod
    def from_a2a(cls, envelope: A2AEnvelope) -> ExecutionEnvelope:
        """Take the correlation fields of a full :class:`~viksa_ai.models.a2a.A2AEnvelope`."""
        wire = envelope.to_wire()
        return cls.model_validate({name: wire[name] for name in cls.model_fields if name in wire})


#: Name of :class:`ExecutionEnvelope` in viksa-ai 0.2.x.
A2AEnvelopeIn = ExecutionEnvelope


class _ExecutorRequest(ClosedModel):
    """Fields shared by execute and invoke, with the secure-agent queue rule."""

    agent_id: str
    agent_type: AgentType
    endpoint: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    # Validated even when absent, so a secure agent without a queue is reported.
    task_queue: str | None = Field(default=None, validate_default=True)
    timeout: int | None = None

    @field_validator("task_queue")
    @classmethod
    def _secure_agent_has_queue(cls, value: str | None, info: ValidationInfo) -> str | None:
        # agent_type is declared first, so it is in info.data once it validated.
        if info.data.get("agent_type") is AgentType.SECURE and not (value and value.strip()):
            raise PydanticCustomError(
                "secure_agent_without_task_queue",
                "task_queue is required for a secure agent: set it to the queue your "
                'secure worker listens on, or set agent_type to "cloud"',
            )
        return value


class EndpointExecutionRequest(_ExecutorRequest):
    """Run one endpoint and wait for its result (``pulse.execute``).

    ``task_queue`` is required when ``agent_type`` is ``secure``; ``timeout`` is in
    seconds; ``envelope`` carries A2A correlation data.
    """

    envelope: ExecutionEnvelope | None = None


class AgentInvokeRequest(_ExecutorRequest):
    """Start one endpoint without waiting (``pulse.invoke``); same queue rule as execute."""


class EndpointExecutionResponse(OpenModel):
    """The result of ``pulse.execute``: the endpoint's ``response`` or an ``error``."""

    status: str
    execution_id: str
    endpoint: str
    # Typed for checkers, kept as decoded at run time: any JSON the endpoint returned.
    response: Annotated[JSONValue, SkipValidation] = None
    error: str | None = None
    duration_ms: int | None = None


class AgentInvokeResponse(OpenModel):
    """The acknowledgement of ``pulse.invoke``."""

    status: str
    invocation_id: str
    endpoint: str
