"""The one JSON encoding of endpoint results, shared by ``viksa run`` and the local platform.

Python's ``json`` writes ``float('nan')`` and infinities as ``NaN`` / ``Infinity``,
which no JSON parser has to accept. A worker's answer is JSON, so a non-finite number
is written as ``null``, as pydantic (and so FastAPI) serialises it.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["dumps_json"]


def dumps_json(value: Any, *, indent: int | None = None) -> str:
    """``value`` as strict JSON text: non-finite numbers as ``null``, non-ASCII kept.

    Compact (``{"a":1}``) by default; ``indent`` pretty-prints. Raises ``TypeError``
    for a value JSON cannot hold, as ``json.dumps`` does.
    """
    separators = (",", ":") if indent is None else (",", ": ")
    try:
        # The fast path: almost every value holds only finite numbers.
        return json.dumps(
            value, ensure_ascii=False, allow_nan=False, indent=indent, separators=separators
        )
    except ValueError:
        pass  # a non-finite number somewhere (or a cycle, which json.dumps reports below)
    return json.dumps(
        _finite(value),
        ensure_ascii=False,
        allow_nan=False,
        indent=indent,
        separators=separators,
    )


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float (in dicts, lists and tuples) as ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
