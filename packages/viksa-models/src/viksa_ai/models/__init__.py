"""Pydantic v2 models of the Viksa AI platform wire format.

Every public name of :mod:`viksa_ai.models.agent`, :mod:`~viksa_ai.models.auth`,
:mod:`~viksa_ai.models.a2a` and :mod:`~viksa_ai.models.executor` is re-exported here.
They are imported on first use (PEP 562), so ``import viksa_ai.models`` does not import
pydantic; nor does importing the manifest's enums (``AgentType``, ``EndpointStatus``,
``InputType``, ``MimeType``) from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from viksa_ai.models._enums import AgentType, EndpointStatus, InputType, MimeType
    from viksa_ai.models.a2a import (
        A2A_PROTOCOL_VERSION,
        A2AEnvelope,
        A2AResponse,
        A2AStatus,
        ProtocolVersion,
    )
    from viksa_ai.models.agent import (
        AgentCreationRequest,
        AgentEndpoint,
        AgentFile,
        AgentFileType,
        AgentGenerationResponse,
        AgentInput,
        AgentOutput,
        AgentQueue,
        AgentUpdateRequest,
        BaseAgentData,
        ChronaQueue,
        EndpointInputRef,
        ExecutionConfig,
    )
    from viksa_ai.models.auth import (
        ApiKeyRequest,
        KeyValidationRequest,
        KeyValidationResponse,
        LoginRequest,
        RefreshRequest,
        SwitchOrgRequest,
        SwitchProjectRequest,
        TokenResponse,
        UserResponse,
    )
    from viksa_ai.models.executor import (
        A2AEnvelopeIn,
        AgentInvokeRequest,
        AgentInvokeResponse,
        EndpointExecutionRequest,
        EndpointExecutionResponse,
        ExecutionEnvelope,
    )
    from viksa_ai.models.executor import AgentType as ExecutorAgentType

# The public names of each module, re-exported here.
_MODULE_EXPORTS: dict[str, tuple[str, ...]] = {
    "viksa_ai.models.a2a": (
        "A2A_PROTOCOL_VERSION",
        "A2AEnvelope",
        "A2AResponse",
        "A2AStatus",
        "ProtocolVersion",
    ),
    "viksa_ai.models.agent": (
        "AgentCreationRequest",
        "AgentEndpoint",
        "AgentFile",
        "AgentFileType",
        "AgentGenerationResponse",
        "AgentInput",
        "AgentOutput",
        "AgentQueue",
        "AgentUpdateRequest",
        "BaseAgentData",
        "ChronaQueue",
        "EndpointInputRef",
        "ExecutionConfig",
    ),
    # The manifest's enums, from their pydantic-free module (the same objects as
    # viksa_ai.models.agent's): `from viksa_ai.models import InputType` stays cheap.
    "viksa_ai.models._enums": ("AgentType", "EndpointStatus", "InputType", "MimeType"),
    "viksa_ai.models.auth": (
        "ApiKeyRequest",
        "KeyValidationRequest",
        "KeyValidationResponse",
        "LoginRequest",
        "RefreshRequest",
        "SwitchOrgRequest",
        "SwitchProjectRequest",
        "TokenResponse",
        "UserResponse",
    ),
    "viksa_ai.models.executor": (
        "A2AEnvelopeIn",
        "AgentInvokeRequest",
        "AgentInvokeResponse",
        "EndpointExecutionRequest",
        "EndpointExecutionResponse",
        "ExecutionEnvelope",
    ),
}

# Public name -> (module, attribute). ExecutorAgentType is the 0.2.x name of AgentType.
_EXPORTS: dict[str, tuple[str, str]] = {
    name: (module, name) for module, names in _MODULE_EXPORTS.items() for name in names
}
_EXPORTS["ExecutorAgentType"] = ("viksa_ai.models.executor", "AgentType")

__all__ = [
    "A2A_PROTOCOL_VERSION",
    "A2AEnvelope",
    "A2AEnvelopeIn",
    "A2AResponse",
    "A2AStatus",
    "AgentCreationRequest",
    "AgentEndpoint",
    "AgentFile",
    "AgentFileType",
    "AgentGenerationResponse",
    "AgentInput",
    "AgentInvokeRequest",
    "AgentInvokeResponse",
    "AgentOutput",
    "AgentQueue",
    "AgentType",
    "AgentUpdateRequest",
    "ApiKeyRequest",
    "BaseAgentData",
    "ChronaQueue",
    "EndpointExecutionRequest",
    "EndpointExecutionResponse",
    "EndpointInputRef",
    "EndpointStatus",
    "ExecutionConfig",
    "ExecutionEnvelope",
    "ExecutorAgentType",
    "InputType",
    "KeyValidationRequest",
    "KeyValidationResponse",
    "LoginRequest",
    "MimeType",
    "ProtocolVersion",
    "RefreshRequest",
    "SwitchOrgRequest",
    "SwitchProjectRequest",
    "TokenResponse",
    "UserResponse",
]


# Hidden from type checkers: they see the imports above, so a misspelt name is an error.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        target = _EXPORTS.get(name)
        if target is None:
            raise AttributeError(f"module 'viksa_ai.models' has no attribute {name!r}")
        module_name, attribute = target
        value = getattr(importlib.import_module(module_name), attribute)
        globals()[name] = value  # later lookups skip __getattr__
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
