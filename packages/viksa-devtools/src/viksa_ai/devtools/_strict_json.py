"""Strict JSON: the one decoder of request bodies and the one encoder of stored records.

Python's ``json`` accepts what other JSON tools refuse, and the platform used to store
it: ``NaN``/``Infinity`` (and ``1e999``, which reads as infinity) break SQLite's
``json_extract`` for every later scan of that record kind, a lone surrogate
(``"\\ud800"``) cannot be encoded as UTF-8 in an answer, and JSON nested hundreds deep
overruns Python's recursion limit when it is answered. So:

- request bodies are decoded by :func:`loads_strict`: UTF-8 only, finite numbers only,
  no lone surrogate (in strings or keys), nested at most :data:`MAX_JSON_DEPTH` deep;
  each refusal names the first offending field;
- records are encoded by :func:`dumps_storable`, which refuses the same values (nesting
  up to :data:`MAX_STORED_DEPTH`, as results of agent code may nest deeper than
  requests) so nothing unreadable reaches the data file;
- :func:`loads_stored` reads a record back, or says why it cannot.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_STORED_DEPTH",
    "UnfitJsonError",
    "dumps_storable",
    "loads_stored",
    "loads_strict",
    "unfit_json",
]

MAX_JSON_DEPTH = 64
"""How deep a request body may nest (objects and arrays; the body itself is level 1)."""
MAX_STORED_DEPTH = 512
"""How deep a stored record may nest: answers add a few levels and stay well under
Python's recursion limit (1000)."""

Loc = tuple[str | int, ...]

# Escapes of a UTF-16 surrogate: a pair (an emoji) or a lone one; only then is a walk
# needed to tell them apart. A raw surrogate cannot come through a strict UTF-8 decode.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# JSON strings (with their escapes), removed before counting brackets.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class _NotFiniteError(Exception):
    """Raised by the shared decoder's hooks: a NaN, an Infinity or a float like 1e999."""


def _refuse_constant(_: str) -> float:
    raise _NotFiniteError


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _NotFiniteError
    return value


# Made once: json.loads and json.dumps with options build a new decoder or encoder on
# every call, a cost that outweighs decoding a small request body or record. Shared
# across threads as json's own defaults are. The decoder stops at the first
# non-finite number; loads_strict then decodes again to say where it is.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


class UnfitJsonError(ValueError):
    """JSON the platform refuses: ``loc`` is the path to the offending value.

    ``message`` and ``kind`` are safe to show: they never repeat the value.
    """

    def __init__(self, loc: Sequence[str | int], message: str, kind: str) -> None:
        super().__init__(message)
        self.loc: Loc = tuple(loc)
        self.message = message
        self.kind = kind


def _nesting(text: str, limit: int) -> bool:
    """Whether the arrays and objects of JSON ``text`` nest deeper than ``limit``."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case: too few brackets to nest that deep
    brackets = _BRACKET.findall(_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def unfit_json(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> UnfitJsonError | None:
    """The first thing in ``value`` strict JSON cannot hold, or None.

    A non-finite float, a string or key with a lone surrogate, or a container nested
    deeper than ``max_depth``. The walk is iterative: any depth is safe to check.
    """
    stack: list[tuple[Any, Loc, int]] = [(value, (), 1)]
    while stack:
        item, loc, depth = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return UnfitJsonError(
                    loc,
                    "NaN and Infinity are not JSON numbers; send a finite number",
                    "finite_number",
                )
        elif isinstance(item, str):
            if not _is_unicode(item):
                return UnfitJsonError(loc, _SURROGATE_MESSAGE, "string_unicode")
        elif isinstance(item, (dict, list, tuple)):
            if depth > max_depth:
                return UnfitJsonError(loc, _too_deep(max_depth), "json_too_deep")
            if isinstance(item, dict):
                for key, child in reversed(item.items()):
                    if isinstance(key, str) and not _is_unicode(key):
                        return UnfitJsonError(
                            (*loc, key.encode("utf-8", "backslashreplace").decode()),
                            _SURROGATE_MESSAGE,
                            "string_unicode",
                        )
                    stack.append((child, (*loc, key), depth + 1))
            else:
                stack.extend(
                    (child, (*loc, i), depth + 1) for i, child in reversed(list(enumerate(item)))
                )
    return None


_SURROGATE_MESSAGE = "holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not Unicode text"


def _too_deep(max_depth: int) -> str:
    return f"nested too deeply: more than {max_depth} levels of arrays and objects"


def _is_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def loads_strict(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode a request body; raise :class:`UnfitJsonError` for what the platform refuses.

    Malformed JSON raises ``json.JSONDecodeError`` as ``json.loads`` does.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UnfitJsonError((), "the body is not UTF-8 text", "json_invalid") from None
    else:
        text = data
    too_deep = _nesting(text, max_depth)
    try:
        try:
            if text.startswith("\ufeff"):
                json.loads(text)  # refused there, as json.loads refuses it
            value, odd = _DECODER.decode(text), False
        except _NotFiniteError:
            # Decoded again as Python reads NaN and Infinity: the walk names the place.
            value, odd = json.loads(text), True
    except RecursionError:
        raise UnfitJsonError(
            (), f"nested deeper than {max_depth} levels", "json_too_deep"
        ) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # an integer of more digits than Python converts
        raise UnfitJsonError((), f"not a usable JSON number: {exc}", "json_invalid") from None
    if odd or too_deep or _SURROGATE_ESCAPE.search(text):
        problem = unfit_json(value, max_depth=max_depth)
        if problem is not None:
            raise problem
    return value


def dumps_storable(doc: Any, *, max_depth: int = MAX_STORED_DEPTH) -> str:
    """``doc`` as JSON text for the store; raise :class:`UnfitJsonError` if unfit."""
    try:
        text = _ENCODER.encode(doc)
        if not text.isascii():
            text.encode("utf-8")  # raises for a lone surrogate
    except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        problem = unfit_json(doc, max_depth=max_depth)
        if problem is not None:
            raise problem from None
        raise
    if _nesting(text, max_depth):
        problem = unfit_json(doc, max_depth=max_depth)
        if problem is not None:
            raise problem
    return text


def loads_stored(text: str) -> dict[str, Any]:
    """A stored record; raise :class:`UnfitJsonError` when it cannot be read safely.

    Records written before :func:`dumps_storable` existed may hold what it refuses.
    """
    value = loads_strict(text, max_depth=MAX_STORED_DEPTH)
    if not isinstance(value, dict):
        raise UnfitJsonError((), "the stored record is not a JSON object", "json_invalid")
    return value
