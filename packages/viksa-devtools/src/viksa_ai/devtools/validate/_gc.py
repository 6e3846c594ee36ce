"""Pausing the cyclic garbage collector while a large, acyclic syntax tree is alive."""

from __future__ import annotations

import gc
from types import TracebackType

__all__ = ["gc_paused"]


def gc_paused() -> _GcPause:
    """Disable the cyclic collector inside a ``with`` block; restore its state after.

    A parsed module is hundreds of thousands of objects, none in a reference cycle:
    the collector finds no garbage among them, yet each of its passes walks them all,
    which costs validation as much as the parse itself on large agents. Reference
    counting still frees every object as usual, so memory use does not grow. The
    switch is process-wide: another thread ending its own pause may re-enable the
    collector early, which only costs time.
    """
    return _GcPause()


class _GcPause:
    # A class rather than @contextmanager: it is entered on every validation, and a
    # generator-based context manager costs several times more.
    __slots__ = ("_enabled",)

    def __enter__(self) -> None:
        self._enabled = gc.isenabled()
        gc.disable()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._enabled:
            gc.enable()
