"""Turning pydantic validation errors into :class:`Issue` objects with manifest paths."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from viksa_ai.devtools.validate._issues import Issue, join_path

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = ["issues_from_validation_error", "json_type_name", "short_repr"]

# Errors of the manifest model's own rules that the validator's rules also report
# (with richer context): left out of its structural issues so they are not repeated.
_MAIN_PY_ERRORS = frozenset({"main_py_missing", "main_py_not_python"})
# pydantic names the members of a union in the error location ("min_value", "int");
# those tags are not manifest fields.
_UNION_TAGS = frozenset(
    {"int", "float", "str", "bool", "bytes", "none", "datetime", "date", "list", "dict"}
)
_CUSTOM_CODES = {
    "secure_agent_without_queue": "VX113",
    "main_py_missing": "VX101",
    "main_py_not_python": "VX102",
}


def issues_from_validation_error(
    exc: ValidationError, prefix: str = "", *, main_py: bool = False
) -> list[Issue]:
    """One issue per distinct location of ``exc``, located under ``prefix``.

    ``missing`` becomes VX002, the model's secure-agent rule VX113, anything else VX003.
    The model's main.py rule (VX101, VX102) is left out unless ``main_py``: the
    validator's own rules report it, with more context.
    """
    issues: list[Issue] = []
    seen: set[str] = set()
    for error in exc.errors(include_url=False):
        kind = error["type"]
        if kind in _MAIN_PY_ERRORS and not main_py:
            continue
        loc = _field_loc(error["loc"])
        path = join_path(prefix, *loc)
        if path in seen:
            continue  # a union reports one error per member; one issue is enough
        seen.add(path)
        issues.append(Issue(_code(kind), _message(kind, error, loc), path=path))
    return issues


def _field_loc(loc: tuple[int | str, ...]) -> list[int | str]:
    parts = list(loc)
    while len(parts) > 1 and isinstance(parts[-1], str) and _is_union_tag(parts[-1]):
        parts.pop()
    return parts


def _is_union_tag(part: str) -> bool:
    return part in _UNION_TAGS or "[" in part


def _code(kind: str) -> str:
    if kind == "missing":
        return "VX002"
    return _CUSTOM_CODES.get(kind, "VX003")


def _message(kind: str, error: Mapping[str, Any], loc: list[int | str]) -> str:
    field = next((part for part in reversed(loc) if isinstance(part, str)), "value")
    if kind == "missing":
        return f"required field {field!r} is missing: add it"
    if kind in _CUSTOM_CODES:
        return str(error["msg"])
    got = json_type_name(error.get("input"))
    message = str(error["msg"])
    if kind == "model_type" or kind == "dict_type":
        return f"{field!r} must be a JSON object, got {got}"
    if kind.endswith(("_type", "_parsing")):
        return f"{field!r}: {_lower_first(message)}, got {got}"
    return f"{field!r}: {_lower_first(message)}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


_JSON_TYPE_NAMES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "a boolean"),  # before int: bool is an int subclass
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (Mapping, "an object"),
    ((list, tuple), "a list"),
)


def json_type_name(value: Any) -> str:
    """``"a string"``, ``"an integer"``, ``"null"``... for messages (never the value)."""
    if value is None:
        return "null"
    for kind, name in _JSON_TYPE_NAMES:
        if isinstance(value, kind):
            return name
    return f"a {type(value).__name__}"


def short_repr(value: Any, limit: int = 40) -> str:
    """``repr(value)`` of a JSON value, cut to ``limit`` characters, for messages.

    Only for values that are not secrets (a manifest's bounds and allowed values, an
    envelope's protocol version), never for call inputs. A value too deep or an
    integer too long to print (Python refuses past 4,300 digits) reads
    ``(too long to print)`` instead of raising.
    """
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        return "(too long to print)"
    return text if len(text) <= limit else text[: limit - 3] + "..."
