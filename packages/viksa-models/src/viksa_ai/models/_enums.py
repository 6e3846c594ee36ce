"""Enumerations of the agent manifest, shared by the agent and executor models."""

from __future__ import annotations

from viksa_ai.models._base import WireEnum

__all__ = ["AgentType", "EndpointStatus", "InputType", "MimeType"]


class AgentType(WireEnum):
    """Where an agent runs: on the platform (``cloud``) or on the customer's worker (``secure``)."""

    CLOUD = "cloud"
    SECURE = "secure"


class InputType(WireEnum):
    """Value type of an agent input or output; parsed case-insensitively (``"String"`` works)."""

    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DICT = "dict"
    LIST = "list"

    @classmethod
    def _missing_(cls, value: object) -> InputType | None:
        # Generated manifests spell types as "String" or "DICT"; pydantic calls this hook
        # too, so models accept any case and always store the lower-case member.
        if isinstance(value, str):
            folded = value.lower()
            for member in cls:
                if member.value == folded:
                    return member
        return None


class MimeType(WireEnum):
    """Kind of an agent file."""

    PYTHON = "python"
    YAML = "yaml"
    JSON = "json"
    OTHER = "other"


class EndpointStatus(WireEnum):
    """Whether the platform routes calls to an endpoint."""

    ENABLED = "enabled"
    DISABLED = "disabled"
