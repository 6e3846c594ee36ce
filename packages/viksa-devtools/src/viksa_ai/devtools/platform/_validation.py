"""The devtools manifest validator, answering FastAPI-style 422 items.

Each error of :func:`viksa_ai.devtools.check_agent_manifest` becomes one item: its
manifest path (``agent_endpoints[2].inputs[0]``) as ``loc`` under ``body``, its code
as ``type`` (``value_error.VX301``), and its code position in ``ctx`` when it has one.
Warnings do not fail a request.
"""

from __future__ import annotations

import json
import re
from typing import Any

from viksa_ai.devtools import check_agent_manifest
from viksa_ai.devtools.platform._errors import detail_item

__all__ = ["manifest_issues", "path_to_loc"]

# A name runs to the next "." or "[" (identifiers hold neither); other keys are quoted.
_PART = re.compile(r'\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.\[]+)')


def path_to_loc(path: str) -> list[str | int]:
    """``agent_endpoints[2].inputs[0]`` as ``["agent_endpoints", 2, "inputs", 0]``."""
    loc: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PART.match(path, position)
        if match is None or match.end() == position:
            loc.append(path[position:])
            break
        index, quoted, name = match.groups()
        if name is not None:
            loc.append(name)
        elif index is not None:
            loc.append(int(index))
        else:
            loc.append(json.loads(quoted))
        position = match.end()
    return loc


def manifest_issues(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every error the validator finds in ``manifest``, as 422 detail items."""
    items = []
    for issue in check_agent_manifest(manifest).errors:
        where = {"file": issue.file, "line": issue.line, "column": issue.column}
        items.append(
            detail_item(
                ["body", *path_to_loc(issue.path)],
                issue.message,
                f"value_error.{issue.code}",
                **{k: v for k, v in where.items() if v is not None},
            )
        )
    return items
