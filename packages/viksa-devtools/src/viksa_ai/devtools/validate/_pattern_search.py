"""Searching an input's ``pattern`` without letting one value stall the process.

An input's ``pattern`` comes from an agent's manifest and the value from its caller.
Python's ``re`` backtracks: ``^(a|aa)+$`` takes exponential time on ``"a" * 40 + "!"``
and even ``[a-z]+$`` takes quadratic time on a long value (3 s at 40,000 characters),
holding the GIL the whole time, so a search on a platform's event loop or in a thread
stalls every account. Each search is therefore sized first:
:func:`worst_case_steps` bounds the backtracking a pattern can do on a value of a
given length (a conservative count read from the pattern's syntax tree). A search
within :data:`INLINE_STEPS` runs here, as before; a larger one runs in a worker
process for at most :data:`PATTERN_TIME_LIMIT_SECONDS` and, when it runs out, the
value is refused as uncheckable (:class:`PatternTimeoutError`) rather than searched
for minutes.

Code on an event loop enters :func:`inline_searches_only`: a search that would need
the worker then raises :class:`PatternSearchDeferred`, and the caller runs the whole
check again in a thread, where waiting for the worker blocks nothing.
"""

from __future__ import annotations

import importlib
import math
import re
import sys
from contextvars import ContextVar, Token
from functools import lru_cache
from typing import Any

__all__ = [
    "INLINE_STEPS",
    "PATTERN_TIME_LIMIT_SECONDS",
    "PatternSearchDeferred",
    "PatternTimeoutError",
    "inline_searches_only",
    "search_pattern",
    "worst_case_steps",
]

INLINE_STEPS = 4_000_000
"""Searches whose worst case is at most this many steps run in the calling thread.

``re`` takes about 5 ns a step, so the worst inline search takes some 20 ms; the
bound over-estimates most patterns several times over."""

PATTERN_TIME_LIMIT_SECONDS = 2.0
"""How long a search that may backtrack heavily may take (in a worker process)."""

# The pattern parser of the running Python: private modules, read only here. Their
# constants are compared by identity, as the parser's own compiler does.
_NEW_PARSER = sys.version_info >= (3, 11)
_parser: Any = importlib.import_module("re._parser" if _NEW_PARSER else "sre_parse")
_c: Any = importlib.import_module("re._constants" if _NEW_PARSER else "sre_constants")
_ONE_CHARACTER = frozenset(
    getattr(_c, name) for name in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY")
)
_ZERO_WIDTH = frozenset([_c.AT, _c.GROUPREF])
_REPEATS = frozenset(
    getattr(_c, name)
    for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    if hasattr(_c, name)
)
_ATOMIC_GROUP = getattr(_c, "ATOMIC_GROUP", None)
_STARTS = frozenset([_c.AT_BEGINNING, _c.AT_BEGINNING_STRING])

_inline_only: ContextVar[bool] = ContextVar("viksa_inline_pattern_searches", default=False)


class PatternTimeoutError(Exception):
    """A search did not finish within :data:`PATTERN_TIME_LIMIT_SECONDS`."""

    def __init__(self, limit: float) -> None:
        super().__init__(f"the search did not finish within {limit:g} seconds")
        self.limit = limit


class PatternSearchDeferred(Exception):  # noqa: N818 (a signal to the caller, not a failure)
    """A search needs the worker while :func:`inline_searches_only` is in force."""


def inline_searches_only() -> _InlineOnly:
    """In this ``with`` block, a search too costly here raises :class:`PatternSearchDeferred`.

    For code on an event loop: it catches the exception and repeats its check in a
    thread (outside the block, so searches there may use the worker).
    """
    return _InlineOnly()


class _InlineOnly:
    # A class rather than @contextmanager: the platform enters it on every call's check.
    __slots__ = ("_token",)
    _token: Token[bool]

    def __enter__(self) -> None:
        self._token = _inline_only.set(True)

    def __exit__(self, *exc_info: object) -> None:
        _inline_only.reset(self._token)


def search_pattern(compiled: re.Pattern[str], value: str) -> bool:
    """Whether ``compiled`` matches somewhere in ``value`` (``re.search``), within limits.

    Raises :class:`PatternTimeoutError` when a costly search runs out of time, and
    :class:`PatternSearchDeferred` (see :func:`inline_searches_only`).
    """
    if worst_case_steps(compiled.pattern, len(value)) <= INLINE_STEPS:
        return compiled.search(value) is not None
    if _inline_only.get():
        raise PatternSearchDeferred
    from viksa_ai.devtools._validation_workers import search_in_worker

    return search_in_worker(compiled.pattern, value, PATTERN_TIME_LIMIT_SECONDS)


def worst_case_steps(pattern: str, length: int) -> float:
    """An upper bound on the steps of ``re.search(pattern, value)`` for ``len(value) == length``.

    ``inf`` when the pattern cannot be read (or does not compile). Computed for the
    next power of two above ``length`` (the bound grows with the length), so a
    pattern is analysed at most a few dozen times, whatever its values.
    """
    return _steps(pattern, 1 << max(length, 1).bit_length())


@lru_cache(maxsize=2048)
def _steps(pattern: str, length: int) -> float:
    try:
        tree = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError, TypeError):
        return math.inf
    try:
        paths = _paths(tree, length)
        items = _items(tree)
    except RecursionError:
        return math.inf
    anchored = (
        len(tree) > 0
        and tree[0][0] is _c.AT
        and (
            tree[0][1] is _c.AT_BEGINNING_STRING
            or (tree[0][1] is _c.AT_BEGINNING and not tree.state.flags & _c.SRE_FLAG_MULTILINE)
        )
    )
    # An unanchored search tries the pattern at every position of the value, and each
    # way of trying it steps through at most every item of the pattern.
    starts = 1 if anchored else length + 1
    return _capped(starts * paths * items)


def _capped(value: float) -> float:
    return value if value <= INLINE_STEPS * 1e6 else math.inf


def _paths(items: Any, length: int) -> float:
    """How many ways a sequence of pattern items can be tried on ``length`` characters.

    A sequence multiplies its items' ways, a branch adds its alternatives', a repeat
    of one character has one way per count, a repeat of anything else may combine its
    item's ways at every count (the source of exponential backtracking).
    """
    total = 1.0
    for op, av in items:
        if op in _ONE_CHARACTER or op in _ZERO_WIDTH:
            continue
        if op is _c.SUBPATTERN:
            total *= _paths(av[-1], length)
        elif op is _c.BRANCH:
            total *= sum(_paths(branch, length) for branch in av[1])
        elif op in _REPEATS:
            total *= _repeat_paths(av, length)
        elif op is _c.ASSERT or op is _c.ASSERT_NOT:
            total *= _paths(av[1], length)
        elif op is _ATOMIC_GROUP:
            total *= _paths(av, length)
        elif op is _c.GROUPREF_EXISTS:
            no = _paths(av[2], length) if av[2] is not None else 1.0
            total *= _paths(av[1], length) + no
        else:  # an item this analysis does not know: assume the worst
            return math.inf
        total = _capped(total)
        if total == math.inf:
            return total
    return total


def _items(items: Any) -> int:
    """How many items the pattern holds, nested ones included."""
    count = 0
    for op, av in items:
        count += 1
        if op is _c.SUBPATTERN:
            count += _items(av[-1])
        elif op is _c.BRANCH:
            count += sum(_items(branch) for branch in av[1])
        elif op in _REPEATS:
            count += _items(av[2])
        elif op is _c.ASSERT or op is _c.ASSERT_NOT:
            count += _items(av[1])
        elif op is _ATOMIC_GROUP:
            count += _items(av)
        elif op is _c.GROUPREF_EXISTS:
            count += _items(av[1]) + (_items(av[2]) if av[2] is not None else 0)
    return count


def _repeat_paths(av: Any, length: int) -> float:
    low, high, item = av
    # A count beyond the value's length consumes nothing more (or matches nothing).
    top = min(high, length + 1)
    counts = max(top - low + 1, 1)
    inner = _paths(item, length)
    if inner <= 1.0:
        return float(counts)
    # Every count may combine its iterations' alternatives: inner ** count ways.
    if top * math.log(inner) > math.log(INLINE_STEPS * 1e6):
        return math.inf
    return _capped(counts * inner**top)
