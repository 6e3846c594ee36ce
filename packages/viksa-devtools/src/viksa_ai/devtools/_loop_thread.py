"""An event loop in a daemon thread, fed coroutines from other threads.

The one helper behind the blocking faces of devtools: the runner's sync
:class:`~viksa_ai.devtools.runner.AgentWorker` and the in-process platform's
:class:`~viksa_ai.devtools.platform.SyncASGITransport`. The loop starts on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """An event loop running in a daemon thread named ``name``.

    :meth:`run` blocks the calling thread until its coroutine ends; :meth:`stop` lets
    calls other threads still wait on finish (cancelling them after ``close_grace``
    seconds), then ends the thread. No call runs after :meth:`stop`.
    """

    def __init__(
        self, name: str, *, close_grace: float, closed_error: Callable[[], RuntimeError]
    ) -> None:
        self._name = name
        self._close_grace = close_grace
        self._closed_error = closed_error
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()
        self._stopped = False

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop and return its result (or raise its error)."""
        try:
            loop = self._ensure_loop()
        except BaseException:
            coroutine.close()
            raise
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        try:
            return future.result()
        except BaseException:
            # Interrupted while waiting (Ctrl-C): cancel the call rather than orphan it.
            if not future.done():
                future.cancel()
                with contextlib.suppress(BaseException):
                    future.result(timeout=5.0)
            raise

    def stop(self) -> None:
        """Finish the calls still running, then stop and close the loop (idempotent)."""
        with self._mutex:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
            self._stopped = True
        if loop is None or thread is None:
            return
        # Calls other threads still wait on finish first: stopping the loop under them
        # would leave those threads blocked.
        asyncio.run_coroutine_threadsafe(_finish_others(self._close_grace), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called (no call runs after it)."""
        return self._stopped

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._mutex:
            if self._stopped:
                # Not a new loop thread for each call after stop, never stopped.
                raise self._closed_error()
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop


async def _finish_others(grace: float) -> None:
    """Let every other task of the running loop end; cancel those still running after ``grace``."""
    current = asyncio.current_task()
    others = [task for task in asyncio.all_tasks() if task is not current]
    if not others:
        return
    _, pending = await asyncio.wait(others, timeout=grace)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
