"""Reading a plainly valid manifest without pydantic, so ``viksa validate`` starts fast.

Importing pydantic and the manifest models costs several times the interpreter's own
start, and ``viksa validate`` runs on every commit. :func:`fast_entries` reads the
entries the rules need straight from the JSON dict, and answers None whenever it is not
sure that :class:`~viksa_ai.models.agent.AgentGenerationResponse` would accept the
manifest and read the same values: then the model decides (and words the issues), as
before. It accepts a strict subset of what the model accepts: exact JSON types only (no
bool for an int, no "3" for a number, no float for an int), in-range integers, enum
values the enum itself takes, and the model's two rules (a python main.py; a queue for
a secure agent). Unknown keys are kept by the model and ignored by the rules, so they
are accepted as they are. A differential property test holds the reports of both paths
equal.

The entries are small stand-ins with the attributes the rules read (and
``model_copy(update=...)``), holding the very values the model would hold.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from viksa_ai.models import AgentType, EndpointStatus, InputType, MimeType

__all__ = ["FastEntries", "fast_entries"]

_MAIN_FILE = "main.py"
# Integers beyond this are left to the model (they are never a sensible bound or size).
_INT_LIMIT = 2**63


class _NotSureError(Exception):
    """The model might refuse this value, or read it otherwise: let the model decide."""


class _Entry:
    """A read-only stand-in for one model instance: its fields as attributes."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, **fields: Any) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Any:
        """A copy with ``update``'s fields replaced, as pydantic's ``model_copy`` does."""
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(update or {})
        return type(self)(**fields)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({shown})"


class _File(_Entry):
    __slots__ = ("content", "mime_type", "name")


class _Input(_Entry):
    __slots__ = (
        "allowed_values",
        "default",
        "description",
        "max_length",
        "max_value",
        "min_length",
        "min_value",
        "name",
        "pattern",
        "type",
    )


class _Output(_Entry):
    __slots__ = ("description", "example", "format", "name", "nullable", "type")


class _InputRef(_Entry):
    __slots__ = ("input_ref", "required")


class _ExecutionConfig(_Entry):
    __slots__ = ("requires_approval", "retry_count", "timeout_seconds")


class _Endpoint(_Entry):
    __slots__ = (
        "description",
        "endpoint",
        "execution_config",
        "inputs",
        "module",
        "name",
        "outputs",
        "status",
    )


class FastEntries(NamedTuple):
    """The entries of a manifest the model would accept, in manifest order.

    Each item reads as the model's entry would (``AgentFile``, ``AgentInput``,
    ``AgentOutput``, ``AgentEndpoint``): the same attributes holding the same values.
    """

    files: list[Any]
    inputs: list[Any]
    outputs: list[Any]
    endpoints: list[Any]
    requirements: list[str]


def fast_entries(manifest: object) -> FastEntries | None:
    """The entries of ``manifest``, or None unless the model surely accepts it as read."""
    try:
        return _read_manifest(manifest)
    except (_NotSureError, RecursionError):
        return None


_Check = Callable[[Any], Any]
_REQUIRED = object()  # a field without a default


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _NotSureError
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:  # a lone surrogate: the model refuses it
            raise _NotSureError from None
    return value


def _sized_str(low: int, high: int | None = None) -> _Check:
    def check(value: Any) -> str:
        text = _str(value)
        if len(text) < low or (high is not None and len(text) > high):
            raise _NotSureError
        return text

    return check


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise _NotSureError
    return value


def _int(value: Any, low: int = -_INT_LIMIT, high: int = _INT_LIMIT) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _NotSureError
    return value


def _ranged_int(low: int, high: int) -> _Check:
    return lambda value: _int(value, low, high)


def _number(value: Any) -> int | float:
    # The model's `int | finite float` union keeps an int an int and a float a float.
    if type(value) is float:
        if not math.isfinite(value):
            raise _NotSureError
        return value
    return _int(value)


def _any(value: Any) -> Any:
    return value


def _optional(check: _Check) -> _Check:
    return lambda value: None if value is None else check(value)


def _enum(kind: type[Any]) -> _Check:
    def check(value: Any) -> Any:
        if type(value) is not str:
            raise _NotSureError
        try:
            return kind(value)  # the enum's own lookup (InputType ignores case)
        except ValueError:
            raise _NotSureError from None

    return check


def _list(check: _Check) -> _Check:
    def read(value: Any) -> list[Any]:
        if type(value) is not list:
            raise _NotSureError
        return [check(item) for item in value]

    return read


def _fields(value: Any, spec: dict[str, tuple[_Check, Any]]) -> dict[str, Any]:
    """``value`` (a JSON object) read by ``spec``: field -> (check, default)."""
    if type(value) is not dict:
        raise _NotSureError
    fields: dict[str, Any] = {}
    for name, (check, default) in spec.items():
        if name in value:
            fields[name] = check(value[name])
        elif default is _REQUIRED:
            raise _NotSureError
        else:
            fields[name] = default() if callable(default) else default
    for key in value:
        _str(key)  # the model refuses a key that is not a valid string
    return fields


def _model(kind: type[_Entry], spec: dict[str, tuple[_Check, Any]]) -> _Check:
    return lambda value: kind(**_fields(value, spec))


_FILE = _model(
    _File,
    {
        "name": (_str, _REQUIRED),
        "content": (_str, _REQUIRED),
        "mime_type": (_enum(MimeType), _REQUIRED),
    },
)
_INPUT = _model(
    _Input,
    {
        "name": (_str, _REQUIRED),
        "type": (_enum(InputType), _REQUIRED),
        "description": (_optional(_str), None),
        "default": (_any, None),
        "allowed_values": (_optional(_list(_any)), None),
        "min_value": (_optional(_number), None),
        "max_value": (_optional(_number), None),
        "min_length": (_optional(_int), None),
        "max_length": (_optional(_int), None),
        "pattern": (_optional(_str), None),
    },
)
_OUTPUT = _model(
    _Output,
    {
        "name": (_str, _REQUIRED),
        "type": (_enum(InputType), _REQUIRED),
        "description": (_optional(_str), None),
        "nullable": (_bool, False),
        "example": (_any, None),
        "format": (_optional(_str), None),
    },
)
_INPUT_REF = _model(_InputRef, {"input_ref": (_str, _REQUIRED), "required": (_bool, True)})
_EXECUTION_CONFIG = _model(
    _ExecutionConfig,
    {
        "requires_approval": (_bool, False),
        "retry_count": (_ranged_int(0, 10), 3),
        "timeout_seconds": (_ranged_int(1, 36000), 30),
    },
)
_ENDPOINT = _model(
    _Endpoint,
    {
        "name": (_str, _REQUIRED),
        "module": (_str, _REQUIRED),
        "endpoint": (_str, ""),
        "description": (_str, _REQUIRED),
        "status": (_enum(EndpointStatus), EndpointStatus.ENABLED),
        "inputs": (_list(_INPUT_REF), list),
        "outputs": (_list(_str), list),
        "execution_config": (_optional(_EXECUTION_CONFIG), None),
    },
)


def _queues(value: Any) -> list[str]:
    return list(_fields(value, {"chrona_queues": (_list(_str), list)})["chrona_queues"])


_MANIFEST: dict[str, tuple[_Check, Any]] = {
    "agent_name": (_sized_str(1, 256), _REQUIRED),
    "agent_description": (_sized_str(1), _REQUIRED),
    "agent_type": (_optional(_enum(AgentType)), None),
    "chrona_queue": (_optional(_queues), None),
    "files": (_list(_FILE), list),
    "requirements": (_list(_str), list),
    "inputs": (_list(_INPUT), list),
    "outputs": (_list(_OUTPUT), list),
    "agent_endpoints": (_list(_ENDPOINT), list),
}


def _read_manifest(manifest: object) -> FastEntries:
    fields = _fields(manifest, _MANIFEST)
    files: list[Any] = fields["files"]
    # The model's own rules: a python main.py, and a queue for a secure agent.
    if not any(file.name == _MAIN_FILE and file.mime_type is MimeType.PYTHON for file in files):
        raise _NotSureError
    queues: list[str] | None = fields["chrona_queue"]
    if fields["agent_type"] is AgentType.SECURE and not any(name.strip() for name in queues or ()):
        raise _NotSureError
    return FastEntries(
        files,
        fields["inputs"],
        fields["outputs"],
        fields["agent_endpoints"],
        fields["requirements"],
    )
