"""Agent-to-agent (A2A) messages, protocol version 1.

On the wire into a worker, the envelope rides inside an endpoint's inputs under the
reserved key ``__viksa_a2a__`` (see ``viksa_ai.runtime``). Both messages are open:
fields from a newer peer are kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final, Literal

from pydantic import BeforeValidator, Field

from viksa_ai.models._base import OpenModel, WireEnum

__all__ = [
    "A2A_PROTOCOL_VERSION",
    "A2AEnvelope",
    "A2AResponse",
    "A2AStatus",
    "ProtocolVersion",
]

A2A_PROTOCOL_VERSION: Final = 1
"""The A2A protocol version this SDK speaks."""


def _reject_bool(value: object) -> object:
    # pydantic's Literal[1] would take True (True == 1 in Python); a version is a number.
    if isinstance(value, bool):
        raise ValueError(f"protocol_version must be {A2A_PROTOCOL_VERSION}, not a boolean")
    return value


ProtocolVersion = Annotated[Literal[1], BeforeValidator(_reject_bool)]
"""The ``protocol_version`` field type: only ``1`` (``A2A_PROTOCOL_VERSION``) validates."""


class A2AStatus(WireEnum):
    """Outcome of an A2A call."""

    OK = "ok"
    INVALID_PAYLOAD = "invalid_payload"
    UNAUTHORIZED = "unauthorized"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    NOT_FOUND = "not_found"
    INTERNAL_ERROR = "internal_error"


class A2AEnvelope(OpenModel):
    """Correlation data of one agent-to-agent call.

    ``callee_agent`` is the target agent's alias, ``endpoint`` its path
    ``alias.module.function``; ``deadline_at`` is an ISO 8601 datetime.
    """

    protocol_version: ProtocolVersion = A2A_PROTOCOL_VERSION
    run_id: str
    parent_step_id: str | None = None
    caller_agent: str | None = None
    callee_agent: str
    endpoint: str
    idempotency_key: str | None = None
    deadline_at: datetime | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)


class A2AResponse(OpenModel):
    """The answer of an agent-to-agent call, with its usage figures when known.

    ``status`` defaults to ``ok``.
    """

    protocol_version: ProtocolVersion = A2A_PROTOCOL_VERSION
    status: A2AStatus = A2AStatus.OK
    payload: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    tokens: int | None = None
    latency_ms: int | None = None
    cost_usd: float | None = None
