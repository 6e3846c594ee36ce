"""The blocking face of the runner: :class:`AgentWorker` and :func:`run_endpoint`.

A sync worker drives an :class:`AsyncAgentWorker` on a private event loop in a
daemon thread, so there is one implementation of the protocol and every blocking
method is safe to call from any thread (calls still run one at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from viksa_ai.devtools.runner._agent import AgentSource, LoadedAgent
from viksa_ai.devtools.runner._call import PreparedCall
from viksa_ai.devtools.runner._limits import Limits
from viksa_ai.devtools.runner._result import RunResult
from viksa_ai.devtools.runner._worker import (
    _CLOSE_GRACE_SECONDS,
    DEFAULT_START_TIMEOUT,
    AsyncAgentWorker,
    Stderr,
)

__all__ = ["AgentWorker", "arun_endpoint", "run_endpoint"]

T = TypeVar("T")


class _LoopThread:
    """An event loop running in a daemon thread, fed coroutines from other threads."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()
        self._stopped = False

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        try:
            loop = self._ensure_loop()
        except BaseException:
            coroutine.close()
            raise
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        try:
            return future.result()
        except BaseException:
            # Interrupted while waiting (Ctrl-C): cancelling the call kills its child.
            if not future.done():
                future.cancel()
                with contextlib.suppress(BaseException):
                    future.result(timeout=5.0)
            raise

    def stop(self) -> None:
        with self._mutex:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
            self._stopped = True
        if loop is None or thread is None:
            return
        # Calls other threads still wait on (queued, or ending after the child's kill)
        # finish first: stopping the loop under them would leave those threads blocked.
        asyncio.run_coroutine_threadsafe(_finish_others(_CLOSE_GRACE_SECONDS), loop).result()
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
                # Not a new loop thread for each call on a closed worker, never stopped.
                raise RuntimeError("this worker is closed: create a new one")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="viksa-agent-worker", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop


async def _finish_others(grace: float) -> None:
    """Let every other task of the running loop end; cancel those still running after ``grace``.

    After the worker's close they end at once (its child is killed); the grace bounds a
    close that was itself interrupted, whose calls are then cancelled, killing the child.
    """
    current = asyncio.current_task()
    others = [task for task in asyncio.all_tasks() if task is not current]
    if not others:
        return
    _, pending = await asyncio.wait(others, timeout=grace)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)


class AgentWorker:
    """A warm child process running one agent's endpoints, for blocking code.

    The same options and behaviour as :class:`AsyncAgentWorker`; every method blocks
    and may be called from any thread. Use it as a context manager, or call
    :meth:`close`.
    """

    def __init__(
        self,
        agent: AgentSource | LoadedAgent,
        *,
        secrets: Mapping[str, str] | None = None,
        auth_methods: Mapping[str, Sequence[str]] | None = None,
        capture_output: bool = False,
        stderr: Stderr = None,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        sandbox: bool = True,
        hidden_paths: Sequence[Path] = (),
        limits: Limits | None = None,
    ) -> None:
        self._worker = AsyncAgentWorker(
            agent,
            secrets=secrets,
            auth_methods=auth_methods,
            capture_output=capture_output,
            stderr=stderr,
            start_timeout=start_timeout,
            sandbox=sandbox,
            hidden_paths=hidden_paths,
            limits=limits,
        )
        self._portal = _LoopThread()

    @property
    def agent(self) -> LoadedAgent:
        """The loaded agent this worker runs."""
        return self._worker.agent

    @property
    def pid(self) -> int | None:
        """The process id of the running child, or ``None`` when none is running."""
        return self._worker.pid

    @property
    def starts(self) -> int:
        """How many child processes this worker has started (restarts included)."""
        return self._worker.starts

    @property
    def sandboxed(self) -> bool:
        """Whether the child runs in the sandbox (asked for, and available here)."""
        return self._worker.sandboxed

    @property
    def limits(self) -> Limits:
        """The limits of each call."""
        return self._worker.limits

    def start(self) -> None:
        """Start the child and import the agent now; see :meth:`AsyncAgentWorker.start`."""
        self._portal.run(self._worker.start())

    def call(
        self,
        endpoint: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        envelope: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> RunResult:
        """Run ``endpoint`` with ``inputs``; see :meth:`AsyncAgentWorker.call`."""
        return self._portal.run(
            self._worker.call(endpoint, inputs, envelope=envelope, secrets=secrets, timeout=timeout)
        )

    def call_prepared(
        self,
        call: PreparedCall,
        *,
        secrets: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> RunResult:
        """Run a call made by :func:`prepare_call`; see :meth:`AsyncAgentWorker.call_prepared`."""
        return self._portal.run(self._worker.call_prepared(call, secrets=secrets, timeout=timeout))

    def close(self) -> None:
        """Stop the child and remove the working directory (again: nothing happens)."""
        if self._portal.stopped:
            return
        try:
            self._portal.run(self._worker.close())
        finally:
            self._portal.stop()

    def __enter__(self) -> AgentWorker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._worker).replace("AsyncAgentWorker", "AgentWorker", 1)


def run_endpoint(
    agent: AgentSource | LoadedAgent,
    endpoint: str,
    inputs: Mapping[str, Any] | None = None,
    *,
    secrets: Mapping[str, str] | None = None,
    auth_methods: Mapping[str, Sequence[str]] | None = None,
    envelope: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    capture_output: bool = False,
    stderr: Stderr = None,
    sandbox: bool = True,
    limits: Limits | None = None,
) -> RunResult:
    """Run one endpoint of ``agent`` in a fresh child process, as a platform worker does.

    Blocking; raises a :class:`RunnerError` subclass on any failure. No child starts
    when the endpoint is unknown or the inputs are invalid. ``sandbox`` and ``limits``
    are those of :class:`AsyncAgentWorker`; ``timeout`` covers starting the child.
    """
    with AgentWorker(
        agent,
        secrets=secrets,
        auth_methods=auth_methods,
        capture_output=capture_output,
        stderr=stderr,
        sandbox=sandbox,
        limits=limits,
    ) as worker:
        return worker.call(endpoint, inputs, envelope=envelope, timeout=timeout)


async def arun_endpoint(
    agent: AgentSource | LoadedAgent,
    endpoint: str,
    inputs: Mapping[str, Any] | None = None,
    *,
    secrets: Mapping[str, str] | None = None,
    auth_methods: Mapping[str, Sequence[str]] | None = None,
    envelope: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    capture_output: bool = False,
    stderr: Stderr = None,
    sandbox: bool = True,
    limits: Limits | None = None,
) -> RunResult:
    """The asyncio twin of :func:`run_endpoint`."""
    async with AsyncAgentWorker(
        agent,
        secrets=secrets,
        auth_methods=auth_methods,
        capture_output=capture_output,
        stderr=stderr,
        sandbox=sandbox,
        limits=limits,
    ) as worker:
        return await worker.call(endpoint, inputs, envelope=envelope, timeout=timeout)
