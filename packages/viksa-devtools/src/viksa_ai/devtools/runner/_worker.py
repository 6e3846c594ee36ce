"""The warm worker: one child process that serves many calls of one agent (asyncio).

:class:`AsyncAgentWorker` owns a child started as ``python -m
viksa_ai.devtools.runner._child`` in a temporary working directory holding the
agent's files and ``ViksaAI.py``. Calls go one at a time over a framed channel on the
child's stdin/stdout (concurrent ``call``s queue on a lock). A call that times out or
is cancelled kills the child's process group; a child that dies is replaced at the
next call, so one worker survives any number of failing calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from viksa_ai.devtools._issues import Issue
from viksa_ai.devtools.runner._agent import AgentSource, LoadedAgent, load_agent, write_working_dir
from viksa_ai.devtools.runner._auth import AuthConfig, Redactor
from viksa_ai.devtools.runner._call import PreparedCall, prepare_call
from viksa_ai.devtools.runner._envkeys import CLIENT_CREDENTIAL_VARS, is_auth_env_key
from viksa_ai.devtools.runner._errors import (
    AgentImportError,
    AgentLoadError,
    AuthNotConfiguredError,
    EndpointError,
    EndpointNotFoundError,
    EndpointTimeoutError,
    InvalidInputError,
    RunnerError,
    WorkerCrashedError,
)
from viksa_ai.devtools.runner._protocol import (
    HEADER,
    KIND_AUTH,
    KIND_IMPORT,
    KIND_NOT_FOUND,
    ProtocolError,
    decode_body,
    encode_frame,
    frame_length,
)
from viksa_ai.devtools.runner._result import RunResult
from viksa_ai.devtools.runner._tracing import worker_span
from viksa_ai.runtime import to_module_source

__all__ = ["AsyncAgentWorker"]

CHILD_MODULE = "viksa_ai.devtools.runner._child"
DEFAULT_START_TIMEOUT = 60.0
_CLOSE_GRACE_SECONDS = 2.0
_POSIX = os.name == "posix"

Stderr = int | IO[Any] | None


class AsyncAgentWorker:
    """A warm child process running one agent's endpoints, for asyncio code.

    ``secrets`` maps ``METHOD.PARAM`` to a value (the environment variable a worker
    sets); ``auth_methods`` declares the agent's methods and their params (default: the
    manifest's ``auth_methods``). ``capture_output`` returns what an endpoint prints in
    :attr:`RunResult.output` instead of letting it reach the child's stderr, which goes
    to ``stderr`` (as in :mod:`subprocess`: ``None`` inherits ours). ``start_timeout``
    bounds starting the child and importing the agent.

    The child starts at :meth:`start` or at the first call. Calls run one at a time.
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
    ) -> None:
        self._agent = agent if isinstance(agent, LoadedAgent) else load_agent(agent)
        declared = self._agent.auth_methods if auth_methods is None else auth_methods
        self._auth = AuthConfig(secrets, declared)
        self._capture = capture_output
        self._stderr = stderr
        self._start_timeout = start_timeout
        self._lock: asyncio.Lock | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._workdir: Path | None = None
        self._next_id = 0
        self._starts = 0
        self._closed = False

    @property
    def agent(self) -> LoadedAgent:
        """The loaded agent this worker runs."""
        return self._agent

    @property
    def pid(self) -> int | None:
        """The process id of the running child, or ``None`` when none is running."""
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    @property
    def starts(self) -> int:
        """How many child processes this worker has started (restarts included)."""
        return self._starts

    async def start(self) -> None:
        """Start the child and import the agent now rather than at the first call.

        Raises :class:`AgentImportError` (or :class:`AuthNotConfiguredError`) when
        importing the agent's modules fails, with the agent's traceback.
        """
        async with self._guard():
            await self._ensure_started()

    async def call(
        self,
        endpoint: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        envelope: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> RunResult:
        """Run ``endpoint`` (its name or ``alias.module.function``) with ``inputs``.

        The inputs are checked against the manifest first (:class:`InvalidInputError`,
        no agent code runs). An ``__viksa_a2a__`` envelope in the inputs, or
        ``envelope``, is stripped and visible to ``context()`` during this call only.
        ``secrets`` replaces the worker's secrets for this call only. ``timeout``
        (seconds) defaults to the endpoint's ``execution_config.timeout_seconds``.
        """
        prepared = prepare_call(self._agent, endpoint, inputs, envelope)
        return await self.call_prepared(prepared, secrets=secrets, timeout=timeout)

    async def call_prepared(
        self,
        call: PreparedCall,
        *,
        secrets: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> RunResult:
        """Run a call made by :func:`prepare_call` with this worker's :attr:`agent`.

        The same as :meth:`call` without checking the inputs again: for callers that
        check them early (to refuse a request before recording it) and run later.
        """
        with worker_span(call.endpoint.name, call.envelope) as trace:
            return await self._call_prepared(call, secrets, timeout, trace)

    async def _call_prepared(
        self,
        call: PreparedCall,
        secrets: Mapping[str, str] | None,
        timeout: float | None,
        trace: dict[str, str] | None,
    ) -> RunResult:
        if call.agent is not self._agent:
            raise ValueError(
                "this call was prepared for another agent: prepare it with worker.agent"
            )
        target = call.endpoint
        auth = self._auth if secrets is None else self._auth.with_secrets(secrets)
        redact = Redactor([*self._auth.secret_values(), *auth.secret_values()])
        limit = self._agent.timeout_of(target) if timeout is None else timeout
        if not limit > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        async with self._guard():
            process = await self._ensure_started()
            self._next_id += 1
            request = {
                "op": "call",
                "id": self._next_id,
                "module": target.module,
                "function": target.name,
                "inputs": call.inputs,
                "envelope": call.envelope,
                "input_names": [ref.input_ref for ref in target.inputs],
                "env": None if secrets is None else auth.environment(),
                "capture": self._capture,
                "trace": trace,
            }
            try:
                frame = encode_frame(request)
            except RecursionError:
                # Inputs the checks accept can still be too deep for the JSON encoder.
                issue = Issue(
                    "VX003",
                    "the inputs or the envelope are nested too deeply to send to the worker",
                    path="inputs",
                )
                raise InvalidInputError([issue], endpoint=target.name) from None
            try:
                reply = await asyncio.wait_for(self._exchange(process, frame), limit)
            except asyncio.TimeoutError:
                await self._discard()
                raise EndpointTimeoutError(limit, endpoint=target.name) from None
            except (OSError, EOFError, ProtocolError) as exc:
                returncode = await self._discard()
                raise _crashed(returncode, exc, target.name) from None
            except BaseException:
                # Cancelled mid-call: the child still runs it, so it cannot serve another.
                await asyncio.shield(self._discard())
                raise
            if reply.get("id") != self._next_id:
                returncode = await self._discard()
                raise _crashed(returncode, ProtocolError("reply out of order"), target.name)
        if reply.get("ok"):
            return RunResult(
                endpoint=target.name,
                value=reply.get("value"),
                duration_ms=float(reply.get("duration_ms") or 0.0),
                output=redact(reply.get("output")),
            )
        raise _error_from_reply(reply, redact, target.name)

    async def close(self) -> None:
        """Stop the child and remove the working directory.

        A call still running in another task ends with :class:`WorkerCrashedError`.
        """
        if self._closed:
            return
        self._closed = True
        process = self._process
        busy = self._lock is not None and self._lock.locked()
        try:
            if (
                not busy
                and process is not None
                and process.returncode is None
                and process.stdin is not None
            ):
                # A graceful end: an idle child leaves its loop when the channel closes (a
                # busy one would not before its call ends, so it is killed at once).
                process.stdin.close()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(process.wait(), _CLOSE_GRACE_SECONDS)
        finally:
            # Even when the close itself is cancelled: a later close() returns at once.
            await self._discard()
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None

    async def __aenter__(self) -> AsyncAgentWorker:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return (
            f"AsyncAgentWorker(agent={self._agent.origin!r}, pid={self.pid}, auth={self._auth!r})"
        )

    @contextlib.asynccontextmanager
    async def _guard(self) -> Any:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._closed:
                raise RuntimeError("this worker is closed: create a new one")
            yield

    async def _ensure_started(self) -> asyncio.subprocess.Process:
        process = self._process
        if process is not None and process.returncode is None:
            return process
        await self._discard()
        workdir = self._fresh_workdir()
        self._starts += 1
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                CHILD_MODULE,
                *self._agent.modules,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=self._stderr,
                cwd=workdir,
                env=self._child_environment(),
                start_new_session=_POSIX,
            )
        except OSError as exc:
            if not self._closed:
                raise
            # close() removed the working directory while the child was being spawned.
            raise _closed_mid_start(exc) from None
        self._process = process
        if self._closed:
            # close() ran while the child was being spawned and could not stop it.
            await self._discard()
            raise _closed_mid_start(None)
        try:
            ready = await asyncio.wait_for(_read_frame(process), self._start_timeout)
        except asyncio.TimeoutError:
            await self._discard()
            raise AgentLoadError(
                f"importing the agent took more than {self._start_timeout:g} s: move slow "
                "work out of module level, or pass a longer start_timeout"
            ) from None
        except (OSError, EOFError, ProtocolError) as exc:
            returncode = await self._discard()
            raise _crashed(returncode, exc, None) from None
        except BaseException:
            await asyncio.shield(self._discard())
            raise
        if not ready.get("ok"):
            await self._discard()
            raise _error_from_reply(ready, self._auth.redactor(), None)
        return process

    def _fresh_workdir(self) -> Path:
        # A restarted child gets the agent's files as shipped, not as a crash left them.
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = Path(tempfile.mkdtemp(prefix="viksa-agent-"))
        write_working_dir(self._agent, self._workdir, to_module_source())
        return self._workdir

    def _child_environment(self) -> dict[str, str]:
        # Auth variables and platform credentials of our own environment never leak
        # into the agent's.
        env = {
            k: v
            for k, v in os.environ.items()
            if not is_auth_env_key(k) and k not in CLIENT_CREDENTIAL_VARS
        }
        env.update(self._auth.environment())
        return env

    async def _exchange(self, process: asyncio.subprocess.Process, frame: bytes) -> dict[str, Any]:
        assert process.stdin is not None
        process.stdin.write(frame)
        await process.stdin.drain()
        return await _read_frame(process)

    async def _discard(self) -> int | None:
        """Kill the current child and its process group, reap it, and forget it."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.returncode is None:
            _kill_tree(process)
        returncode = await process.wait()
        # Closing our end of stdin releases its transport now rather than at exit.
        if process.stdin is not None:
            process.stdin.close()
        return returncode


async def _read_frame(process: asyncio.subprocess.Process) -> dict[str, Any]:
    assert process.stdout is not None
    try:
        header = await process.stdout.readexactly(HEADER.size)
        body = await process.stdout.readexactly(frame_length(header))
    except asyncio.IncompleteReadError:
        raise EOFError("the worker closed its channel") from None
    return decode_body(body)


def _kill_tree(process: asyncio.subprocess.Process) -> None:
    # The child leads its own session: killing the group also ends what the agent spawned.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if _POSIX:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()


def _closed_mid_start(cause: BaseException | None) -> WorkerCrashedError:
    reason = f" ({cause})" if cause is not None else ""
    return WorkerCrashedError(
        f"the worker was closed while its process started{reason}: create a new worker",
        returncode=None,
    )


def _crashed(returncode: int | None, cause: BaseException, endpoint: str | None) -> RunnerError:
    how = f"exit code {returncode}" if returncode is not None else "no exit code"
    if returncode is not None and returncode < 0:
        with contextlib.suppress(ValueError):
            how = f"killed by {signal.Signals(-returncode).name}"
    return WorkerCrashedError(
        f"the agent's worker process died ({how}; {cause}): see its stderr; "
        "the next call starts a new one",
        returncode=returncode,
        endpoint=endpoint,
    )


def _error_from_reply(
    reply: Mapping[str, Any], redact: Redactor, endpoint: str | None
) -> RunnerError:
    error = reply.get("error") or {}
    kind = error.get("kind")
    message = redact(str(error.get("message") or "")) or ""
    exception_type = error.get("type")
    traceback = redact(error.get("traceback"))
    output = redact(reply.get("output"))
    if kind == KIND_NOT_FOUND:
        return EndpointNotFoundError(message, endpoint=endpoint)
    at_import = reply.get("op") == "ready" or kind == KIND_IMPORT
    if kind == KIND_AUTH:
        if at_import:
            message = f"importing the agent raised ViksaAuthError: {message}"
        return AuthNotConfiguredError(
            message,
            method_id=error.get("method_id"),
            param_name=error.get("param_name"),
            exception_type=exception_type,
            traceback=traceback,
            output=output,
            duration_ms=reply.get("duration_ms"),
            endpoint=endpoint,
        )
    if at_import:
        return AgentImportError(
            f"importing the agent failed: {exception_type}: {message}",
            exception_type=exception_type,
            traceback=traceback,
            output=output,
            endpoint=endpoint,
        )
    return EndpointError(
        f"the endpoint raised {exception_type}: {message}" if exception_type else message,
        exception_type=exception_type,
        traceback=traceback,
        output=output,
        duration_ms=reply.get("duration_ms"),
        endpoint=endpoint,
    )
