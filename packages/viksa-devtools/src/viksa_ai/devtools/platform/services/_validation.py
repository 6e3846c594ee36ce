"""The devtools manifest validator, answering FastAPI-style 422 items.

Each error of :func:`viksa_ai.devtools.check_agent_manifest` becomes one item: its
manifest path (``agent_endpoints[2].inputs[0]``) as ``loc`` under ``body``, its code
as ``type`` (``value_error.VX301``), and its code position in ``ctx`` when it has one.
Warnings do not fail a request. File names the runner could not write inside an
agent's working directory are among the validator's errors (VX117), so an agent that
deploys can also run.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import anyio
from anyio.lowlevel import RunVar
from pydantic import BaseModel, ValidationError

from viksa_ai.devtools._validation_workers import (
    VALIDATION_TIME_LIMIT_SECONDS,
    ValidationTimeoutError,
    check_with_limits,
)
from viksa_ai.devtools.platform.services._errors import detail_item, unprocessable
from viksa_ai.devtools.validate._issues import split_path

__all__ = ["body_int", "manifest_issues", "parse_body", "required_id", "typed_field"]

_VALIDATION_THREADS = 4
# Validations in threads at once, per event loop: a flood of manifests queues here
# instead of taking every token of anyio's shared thread limiter, which sign-ins and
# secret reads wait for too.
_validations: RunVar[anyio.CapacityLimiter] = RunVar("viksa_validation_threads")


def _validation_threads() -> anyio.CapacityLimiter:
    try:
        return _validations.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(_VALIDATION_THREADS)
        _validations.set(limiter)
        return limiter


async def manifest_issues(
    manifest: dict[str, Any], *, time_limit: float = VALIDATION_TIME_LIMIT_SECONDS
) -> list[dict[str, Any]]:
    """Every error the validator finds in ``manifest``, as 422 detail items.

    The validator runs off the event loop (in a thread for small agents, in a worker
    process for others) for at most ``time_limit`` seconds; running out is one item of
    type ``value_error.validation_timeout``.
    """
    check = functools.partial(check_with_limits, manifest, time_limit=time_limit)
    try:
        report = await anyio.to_thread.run_sync(check, limiter=_validation_threads())
    except ValidationTimeoutError as exc:
        return [detail_item(["body", "files"], str(exc), "value_error.validation_timeout")]
    items = []
    for issue in report.errors:
        where = {"file": issue.file, "line": issue.line, "column": issue.column}
        items.append(
            detail_item(
                ["body", *split_path(issue.path)],
                issue.message,
                f"value_error.{issue.code}",
                **{k: v for k, v in where.items() if v is not None},
            )
        )
    return items


_M = TypeVar("_M", bound=BaseModel)


def parse_body(model: type[_M], body: Any) -> _M:
    """``body`` as a ``model``; 422 with FastAPI-style items when it does not fit."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise unprocessable(
            detail_item(["body", *err["loc"]], err["msg"], err["type"])
            for err in exc.errors(include_url=False)
        ) from None


def required_id(body: dict[str, Any], field: str) -> str:
    """``body[field]`` as a record id; 422 when it is missing or not a non-empty string.

    Without this check a missing id reads as ``"None"`` and answers a misleading 404.
    """
    value = body.get(field)
    if isinstance(value, str) and value:
        return value
    kind, msg = (
        ("missing", "Field required")
        if value is None
        else ("string_type", "Input should be a valid string")
    )
    raise unprocessable([detail_item(["body", field], msg, kind)])


def body_int(body: dict[str, Any], field: str, *, default: int, low: int, high: int) -> int:
    """``body[field]`` (``default`` when absent) as an int in ``low..high``; 422 otherwise.

    JSON ``true``/``false`` are not numbers on the wire, though Python's bool is an int.
    """
    value = body.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise unprocessable(
            [detail_item(["body", field], "Input should be a valid integer", "int_type")]
        )
    if not low <= value <= high:
        raise unprocessable(
            [detail_item(["body", field], f"{field} is {low}..{high}", "int_range")]
        )
    return value


_T = TypeVar("_T", str, dict[str, Any], bool)
# What each type is called on the wire (FastAPI's error types).
_TYPE_WORDS: dict[type, tuple[str, str]] = {
    str: ("string_type", "a string"),
    dict: ("dict_type", "an object"),
    bool: ("bool_type", "true or false (a JSON boolean, not a string or number)"),
}


def typed_field(
    body: Mapping[str, Any],
    field: str,
    wanted: type[_T],
    loc: Sequence[str | int] = ("body",),
    *,
    required: bool = False,
) -> _T | None:
    """``body[field]`` when it is a ``wanted``; None when absent or null (unless ``required``).

    422 at ``[*loc, field]`` otherwise: a field kept as sent, of another type, broke
    later reads of the record (or read as its opposite: the string ``"false"`` is true).
    """
    value = body.get(field)
    if value is None and not required:
        return None
    if isinstance(value, wanted):
        return value
    kind, words = ("missing", "is required") if value is None else _TYPE_WORDS[wanted]
    message = f"{field} {words}" if value is None else f"{field} must be {words}"
    raise unprocessable([detail_item([*loc, field], message, kind)])
