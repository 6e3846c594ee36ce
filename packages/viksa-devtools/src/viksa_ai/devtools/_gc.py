"""Pausing the cyclic garbage collector while a large, acyclic syntax tree is alive."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block; restore its previous state after.

    A parsed module is hundreds of thousands of objects, none in a reference cycle:
    the collector finds no garbage among them, yet each of its passes walks them all,
    which costs validation as much as the parse itself on large agents. Reference
    counting still frees every object as usual, so memory use does not grow. The
    switch is process-wide: another thread ending its own pause may re-enable the
    collector early, which only costs time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
