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
    for a value JSON cannot hold and ``ValueError`` for a cycle, as ``json.dumps`` does.
    """
    separators = (",", ":") if indent is None else (",", ": ")
    try:
        # The fast path: almost every value holds only finite numbers.
        return json.dumps(
            value, ensure_ascii=False, allow_nan=False, indent=indent, separators=separators
        )
    except ValueError:
        pass  # a non-finite number somewhere, or a cycle (which _finite reports)
    return json.dumps(
        _finite(value, set()),
        ensure_ascii=False,
        allow_nan=False,
        indent=indent,
        separators=separators,
    )


def _finite(value: Any, containers: set[int]) -> Any:
    """``value`` with every non-finite float (in dicts, lists and tuples) as ``None``.

    A non-finite float key is spelt as ``json.dumps`` spells it (``"NaN"``), as the
    runner's child sends it. ``containers`` holds the ids of the containers being
    copied, so that a cycle is the ``ValueError`` of ``json.dumps``, not a RecursionError.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if not isinstance(value, (dict, list, tuple)):
        return value
    if id(value) in containers:
        raise ValueError("Circular reference detected")
    containers.add(id(value))
    try:
        if isinstance(value, dict):
            return {_key(key): _finite(item, containers) for key, item in value.items()}
        return [_finite(item, containers) for item in value]
    finally:
        containers.discard(id(value))


def _key(key: Any) -> Any:
    if isinstance(key, float) and not math.isfinite(key):
        return json.dumps(key)  # NaN, Infinity or -Infinity: a string key is valid JSON
    return key
