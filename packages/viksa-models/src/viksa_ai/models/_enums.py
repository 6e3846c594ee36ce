"""Enumerations of the agent manifest, shared by the agent and executor models.

This module imports no pydantic: the devtools validator reads manifests with these
enums on its fast path (``viksa validate`` must start quickly).
"""

from __future__ import annotations

from enum import Enum

__all__ = ["AgentType", "EndpointStatus", "InputType", "MimeType", "WireEnum"]


class WireEnum(str, Enum):
    """A string enum whose members are their wire value everywhere, ``str()`` included."""

    # Python 3.11 changed str() of mixed-in enums to "Class.MEMBER"; the wire value is
    # what users want in messages and f-strings on every supported version.
    def __str__(self) -> str:
        return str(self.value)


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

    @property
    def python_type(self) -> type:
        """The Python type of a value: ``str``, ``int``, ``float``, ``bool``, ``dict``, ``list``."""
        return _PYTHON_TYPES[self.value]

    def validate_value(self, value: object) -> bool:
        """Return whether ``value`` is an instance of :attr:`python_type`.

        The 0.2.x check, kept as it was: ``True`` counts as an ``integer`` (``bool`` is
        an ``int``) and ``1`` is not a ``float``. For the platform's own rules (finite
        numbers, any mapping or sequence), use the devtools validator.
        """
        return isinstance(value, self.python_type)

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


# By wire value: a mapping keyed by member cannot be built inside the enum's body.
_PYTHON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "dict": dict,
    "list": list,
}


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
