"""The blocking face of the runner: :class:`AgentWorker` and :func:`run_endpoint`.

A sync worker drives an :class:`AsyncAgentWorker` on a private event loop in a
daemon thread, so there is one implementation of the protocol and every blocking
method is safe to call from any thread (calls still run one at a time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from viksa_ai.devtools._loop_thread import LoopThread
from viksa_ai.devtools.runner._agent import AgentSource, LoadedAgent
from viksa_ai.devtools.runner._call import PreparedCall
from viksa_ai.devtools.runner._errors import WorkerClosedError
from viksa_ai.devtools.runner._limits import Limits
from viksa_ai.devtools.runner._result import RunResult
from viksa_ai.devtools.runner._worker import (
    _CLOSE_GRACE_SECONDS,
    DEFAULT_START_TIMEOUT,
    AsyncAgentWorker,
    Stderr,
)

__all__ = ["AgentWorker", "arun_endpoint", "run_endpoint"]


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
        self._portal = LoopThread(
            "viksa-agent-worker",
            close_grace=_CLOSE_GRACE_SECONDS,
            closed_error=WorkerClosedError,
        )

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
