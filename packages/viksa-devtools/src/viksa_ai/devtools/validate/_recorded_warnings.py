"""Recording every warning Python emits inside a block, as the validator's parse needs.

What ``warnings.catch_warnings(record=True)`` followed by ``simplefilter("always")``
does, in fewer steps: the block runs right after (and around) the parse and compile of
main.py, when little of the ``warnings`` module's Python code is still in the CPU
caches, and the standard pair (six Python functions, ``simplefilter`` raising and
catching a ``ValueError`` inside) cost about 13 us there, a tenth of what validation
adds to the parse at 10 endpoints. The short path does the same assignments as
``catch_warnings`` and is used only on the Pythons whose ``warnings`` module it was
written against (3.10 to 3.13: Python 3.14 can keep the filters in a context
variable); elsewhere the standard pair runs.
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType

__all__ = ["recorded_warnings"]

# The one filter the block needs: the first match wins, so the filters in force outside
# (kept after it by catch_warnings) would never be reached.
_ALWAYS = ("always", None, Warning, None, 0)
_SHORT = (
    sys.version_info < (3, 14)
    and hasattr(warnings, "_filters_mutated")
    and hasattr(warnings, "_showwarning_orig")
    and hasattr(warnings, "_showwarnmsg_impl")
)
# One recording block at a time in the process: the platform validates in threads, and
# a block entered while another is open would save that one's state and restore it
# last, leaving "always" and a dead log in force for every later warning (and a parse's
# warnings in the other's log). Reentrant: a parse never nests one, but a lock must
# not be what hangs a validation if it ever did.
_LOCK = threading.RLock()


def recorded_warnings() -> AbstractContextManager[list[warnings.WarningMessage]]:
    """A ``with`` block recording every warning raised in it, shown or not before.

    Enter it for the list the warnings are appended to; on exit, the filters and the
    display functions in force before are restored. Blocks in several threads run one
    after another (``catch_warnings`` elsewhere in the process is not serialized).
    """
    return _Recorder() if _SHORT else _standard()


class _Recorder:
    # What catch_warnings(record=True).__enter__/__exit__ and simplefilter("always") do.
    __slots__ = ("_filters", "_impl", "_show")

    def __enter__(self) -> list[warnings.WarningMessage]:
        _LOCK.acquire()
        module: object = warnings
        self._filters = warnings.filters
        self._show = warnings.showwarning
        self._impl = module._showwarnmsg_impl  # type: ignore[attr-defined]
        warnings.filters = [_ALWAYS]
        module._filters_mutated()  # type: ignore[attr-defined]
        log: list[warnings.WarningMessage] = []
        module._showwarnmsg_impl = log.append  # type: ignore[attr-defined]
        # _showwarnmsg calls _showwarnmsg_impl only while showwarning is the original.
        warnings.showwarning = module._showwarning_orig  # type: ignore[attr-defined]
        return log

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        module: object = warnings
        warnings.filters = self._filters
        module._filters_mutated()  # type: ignore[attr-defined]
        warnings.showwarning = self._show
        module._showwarnmsg_impl = self._impl  # type: ignore[attr-defined]
        _LOCK.release()


@contextmanager
def _standard() -> Iterator[list[warnings.WarningMessage]]:
    with _LOCK, warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        assert log is not None  # record=True
        yield log
