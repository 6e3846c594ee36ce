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
import time
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
    "shared_search_time",
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
# (?i) anywhere, as a flag of the pattern or of a group (compiled by re on first use:
# nothing here is compiled at import, which ``viksa validate``'s start pays).
_SCOPED_IGNORECASE = r"\(\?[a-zA-Z-]*i"
_CATEGORY_TEXTS = {
    getattr(_c, "CATEGORY_" + name): text
    for name, text in (
        ("DIGIT", r"\d"),
        ("NOT_DIGIT", r"\D"),
        ("WORD", r"\w"),
        ("NOT_WORD", r"\W"),
        ("SPACE", r"\s"),
        ("NOT_SPACE", r"\S"),
    )
}
# One iteration of a repeat of more than one character (re's REPEAT, a context pushed
# per iteration) takes about 35 ns, some seven steps, even of an empty group.
_ITERATION_STEPS = 8
# re folds the class entries at or below this code point into a bitmap tested in a step.
_BITMAP_MAX = 0xFFFF

_inline_only: ContextVar[bool] = ContextVar("viksa_inline_pattern_searches", default=False)
_deadline: ContextVar[float | None] = ContextVar("viksa_pattern_search_deadline", default=None)


class PatternTimeoutError(Exception):
    """A search did not finish within :data:`PATTERN_TIME_LIMIT_SECONDS`.

    ``spent`` when it was not even started: the costly searches before it in the same
    :func:`shared_search_time` block had used up the time.
    """

    def __init__(self, limit: float, *, spent: bool = False) -> None:
        what = "was not started: earlier searches used up" if spent else "did not finish within"
        super().__init__(f"the search {what} {limit:g} seconds")
        self.limit = limit
        self.spent = spent


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


def shared_search_time(*, from_now: bool = False) -> _SharedTime:
    """In this ``with`` block, the searches that need the worker share one time limit.

    One check of many values (a call's inputs, a manifest's defaults and allowed
    values) then holds a worker for at most :data:`PATTERN_TIME_LIMIT_SECONDS` in all,
    not that long per value; the searches left when it runs out raise
    :class:`PatternTimeoutError` (``spent``) at once. The time starts with the first
    costly search, or at once with ``from_now`` (for a caller about to queue for a
    thread: its wait is then part of the limit). A block inside another shares the
    outer one's time.
    """
    return _SharedTime(from_now)


class _SharedTime:
    __slots__ = ("_from_now", "_token")
    _token: Token[float | None] | None

    def __init__(self, from_now: bool) -> None:
        self._from_now = from_now

    def __enter__(self) -> None:
        if _deadline.get() is not None:
            self._token = None
            return
        # Otherwise set by the first costly search: cheap checks pay nothing.
        start = time.monotonic() + PATTERN_TIME_LIMIT_SECONDS if self._from_now else math.nan
        self._token = _deadline.set(start)

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _deadline.reset(self._token)


def _time_left() -> float:
    """The time the next costly search may take (starting the shared clock if need be)."""
    deadline = _deadline.get()
    if deadline is None:
        return PATTERN_TIME_LIMIT_SECONDS
    if math.isnan(deadline):
        _deadline.set(time.monotonic() + PATTERN_TIME_LIMIT_SECONDS)
        return PATTERN_TIME_LIMIT_SECONDS
    return deadline - time.monotonic()


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

    left = _time_left()
    if left <= 0:
        raise PatternTimeoutError(PATTERN_TIME_LIMIT_SECONDS, spent=True)
    try:
        return search_in_worker(compiled.pattern, value, left)
    except PatternTimeoutError as exc:
        # Out of the shared time, which is what the caller is told about.
        raise PatternTimeoutError(PATTERN_TIME_LIMIT_SECONDS, spent=exc.spent) from None


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
        folds = (
            bool(tree.state.flags & _c.SRE_FLAG_IGNORECASE)
            or re.search(_SCOPED_IGNORECASE, pattern) is not None
        )
        paths = _paths(tree, length, folds)
        cost = _cost(tree, length, folds)
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
    # way of trying it walks the pattern once (backtracking shares the walks' steps).
    starts = 1 if anchored else length + 1
    return _capped(starts * paths * cost)


def _capped(value: float) -> float:
    return value if value <= INLINE_STEPS * 1e6 else math.inf


def _paths(items: Any, length: int, folds: bool) -> float:
    """How many ways a sequence of pattern items can be tried on ``length`` characters.

    A sequence multiplies its items' ways, a branch adds its alternatives', a repeat
    of one character has one way per count, a repeat of anything else may combine its
    item's ways at every count (the source of exponential backtracking).
    """
    total = 1.0
    for index, (op, av) in enumerate(items):
        if op in _ONE_CHARACTER or op in _ZERO_WIDTH or _stops_before_next(items, index, folds):
            continue
        if op is _c.SUBPATTERN:
            total *= _paths(av[-1], length, folds)
        elif op is _c.BRANCH:
            total *= sum(_paths(branch, length, folds) for branch in av[1])
        elif op in _REPEATS:
            total *= _repeat_paths(av, length, folds)
        elif op is _c.ASSERT or op is _c.ASSERT_NOT:
            total *= _paths(av[1], length, folds)
        elif op is _ATOMIC_GROUP:
            total *= _paths(av, length, folds)
        elif op is _c.GROUPREF_EXISTS:
            no = _paths(av[2], length, folds) if av[2] is not None else 1.0
            total *= _paths(av[1], length, folds) + no
        else:  # an item this analysis does not know: assume the worst
            return math.inf
        total = _capped(total)
        if total == math.inf:
            return total
    return total


def _cost(items: Any, length: int, folds: bool) -> float:
    """The steps of one walk through a sequence of items, without backtracking.

    Most items take a step; some take more: a backreference compares up to ``length``
    characters, a character class keeps the entries ``re`` cannot fold into a bitmap
    (categories such as ``\\w``, characters beyond U+FFFF) as a list it scans, and a
    repeat walks its item once per forced iteration (``{1000}``), which an item that
    matches the empty string repeats whatever the value's length.
    """
    total = 0.0
    for index, (op, av) in enumerate(items):
        total += 1
        if _stops_before_next(items, index, folds):
            # Its one way on tests its class at up to every character, forth and back.
            total += 2 * (length + 1) * _cost(av[2], length, folds)
        if op is _c.IN:
            # A bitmap and one more entry make a step; each entry beyond is one more.
            total += max(sum(1 for entry in av if _scanned(entry)) - 1, 0)
        elif op is _c.GROUPREF:
            total += length
        elif op is _c.SUBPATTERN:
            total += _cost(av[-1], length, folds)
        elif op is _c.BRANCH:
            total += sum(_cost(branch, length, folds) for branch in av[1])
        elif op in _REPEATS:
            low, _, item = av
            step = 1 if _one_character(item) else _ITERATION_STEPS
            total += max(_forced(low, item, length), 1) * (step + _cost(item, length, folds))
        elif op is _c.ASSERT or op is _c.ASSERT_NOT:
            # Entering and leaving a lookaround costs re about a step more than a match.
            total += 1 + _cost(av[1], length, folds)
        elif op is _ATOMIC_GROUP:
            total += _cost(av, length, folds)
        elif op is _c.GROUPREF_EXISTS:
            total += _cost(av[1], length, folds) + (
                _cost(av[2], length, folds) if av[2] is not None else 0
            )
        total = _capped(total)
        if total == math.inf:
            return total
    return total


def _stops_before_next(items: Any, index: int, folds: bool) -> bool:
    """Whether ``items[index]`` repeats a character class that the next item, a literal
    character, is outside of (``[\\w.]+@``): the repeat then has one way on, to the
    first character not in its class, whatever the backtracking (without ``(?i)``,
    which would have to fold the cases of both).
    """
    if folds or index + 1 >= len(items):
        return False
    op, av = items[index]
    next_op, next_av = items[index + 1]
    if op not in _REPEATS or next_op is not _c.LITERAL or not _one_character(av[2]):
        return False
    return _holds(av[2][0], chr(next_av)) is False


def _holds(item: Any, char: str) -> bool | None:
    """Whether the one-character ``item`` matches ``char``; None when not known here."""
    op, av = item
    if op is _c.LITERAL:
        return char == chr(av)
    if op is _c.NOT_LITERAL:
        return char != chr(av)
    if op is not _c.IN:
        return None
    negated = bool(av) and av[0][0] is _c.NEGATE
    found: bool | None = False
    for entry_op, entry_av in av[1:] if negated else av:
        if entry_op is _c.LITERAL:
            held: bool | None = char == chr(entry_av)
        elif entry_op is _c.RANGE:
            held = entry_av[0] <= ord(char) <= entry_av[1]
        elif entry_op is _c.CATEGORY and entry_av in _CATEGORY_TEXTS:
            # Known only when the Unicode and ASCII meanings agree.
            text = _CATEGORY_TEXTS[entry_av]
            unicode, ascii_ = (bool(re.match(text, char, flags)) for flags in (0, re.ASCII))
            held = unicode if unicode == ascii_ else None
        else:
            held = None
        if held:
            return not negated
        if held is None:
            found = None
    return None if found is None else negated


def _one_character(item: Any) -> bool:
    """Whether ``re`` repeats ``item`` with its fast loop for one character."""
    return len(item) == 1 and item[0][0] in _ONE_CHARACTER


def _scanned(entry: Any) -> bool:
    """Whether ``re`` checks this entry of a character class on its own, at each test."""
    op, av = entry
    if op is _c.LITERAL or op is _c.NOT_LITERAL:
        return bool(av > _BITMAP_MAX)
    if op is _c.RANGE:
        return bool(av[1] > _BITMAP_MAX)
    return op is not _c.NEGATE


def _forced(low: int, item: Any, length: int) -> int:
    """How many iterations of a repeat's ``item`` a walk may have to make before it may stop.

    An item that consumes a character cannot be repeated more times than the value has
    characters; one that may match the empty string is repeated ``low`` times anyway.
    """
    return min(low, length + 1) if _min_width(item) > 0 else low


def _min_width(item: Any) -> int:
    try:
        return int(item.getwidth()[0])
    except (AttributeError, TypeError, IndexError, KeyError, OverflowError, RecursionError):
        return 0


def _repeat_paths(av: Any, length: int, folds: bool) -> float:
    low, high, item = av
    # A count beyond the value's length consumes nothing more (or matches nothing); an
    # item that may match the empty string is still tried at each of the ``low`` counts.
    top = min(high, length + 1) if _min_width(item) > 0 else min(high, low + length + 1)
    counts = max(top - low + 1, 1)
    inner = _paths(item, length, folds)
    if inner <= 1.0:
        return float(counts)
    # Every count may combine its iterations' alternatives: inner ** count ways.
    if top * math.log(inner) > math.log(INLINE_STEPS * 1e6):
        return math.inf
    return _capped(counts * inner**top)
