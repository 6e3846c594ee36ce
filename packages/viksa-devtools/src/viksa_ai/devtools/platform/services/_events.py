"""Change notices for live views: each subscriber gets its own bounded queue.

Publishing never blocks and never fails: a subscriber that falls behind loses its
oldest notices (a live view reloads what changed, so a lost notice only delays it).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["Events"]

Notice = dict[str, Any]
_QUEUE_SIZE = 256


def _put(queue: asyncio.Queue[Notice], notice: Notice) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(notice)


class Events:
    """A broadcast of notices (plain JSON objects) to every current subscriber."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Notice]]] = set()

    def publish(self, notice: Notice) -> None:
        """Send ``notice`` to every subscriber (callable from any thread)."""
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            with contextlib.suppress(RuntimeError):  # a closed loop: its subscriber is gone
                loop.call_soon_threadsafe(_put, queue, notice)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Notice]]:
        """A queue of the notices published while the block runs (on the running loop)."""
        entry = (asyncio.get_running_loop(), asyncio.Queue[Notice](_QUEUE_SIZE))
        with self._lock:
            self._subscribers.add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._subscribers.discard(entry)

    @property
    def subscribers(self) -> int:
        """How many subscribers listen now."""
        with self._lock:
            return len(self._subscribers)
