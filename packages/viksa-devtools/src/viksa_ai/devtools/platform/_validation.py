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
from typing import Any

import anyio

from viksa_ai.devtools._validation_workers import (
    VALIDATION_TIME_LIMIT_SECONDS,
    ValidationTimeoutError,
    check_with_limits,
)
from viksa_ai.devtools.platform._errors import detail_item
from viksa_ai.devtools.validate._issues import split_path

__all__ = ["manifest_issues"]


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
        report = await anyio.to_thread.run_sync(check)
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
