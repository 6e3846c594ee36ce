"""The devtools manifest validator, answering FastAPI-style 422 items.

Each error of :func:`viksa_ai.devtools.check_agent_manifest` becomes one item: its
manifest path (``agent_endpoints[2].inputs[0]``) as ``loc`` under ``body``, its code
as ``type`` (``value_error.VX301``), and its code position in ``ctx`` when it has one.
Warnings do not fail a request. File names the runner could not write inside an
agent's working directory are among the validator's errors (VX117), so an agent that
deploys can also run.
"""

from __future__ import annotations

from typing import Any

from viksa_ai.devtools import check_agent_manifest
from viksa_ai.devtools.platform._errors import detail_item
from viksa_ai.devtools.validate._issues import split_path

__all__ = ["manifest_issues"]


def manifest_issues(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every error the validator finds in ``manifest``, as 422 detail items."""
    items = []
    for issue in check_agent_manifest(manifest).errors:
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
