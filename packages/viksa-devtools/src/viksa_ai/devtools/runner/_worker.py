"""The warm worker: one child process that serves many calls of one agent (asyncio).

:class:`AsyncAgentWorker` owns a child running ``viksa_ai.devtools.runner._child``
in a temporary working directory holding the
agent's files and ``ViksaAI.py``, with the environment of :mod:`._environ` (never
ours), inside the sandbox of :mod:`._sandbox` where one is available (elsewhere on
Linux, under the subreaper of :mod:`._shim`). Calls go one at
a time over a framed channel on the child's stdin/stdout (concurrent ``call``s queue on
a lock). A call that times out or is cancelled kills the child and every process it
started; a child that dies is replaced at the next call, so one worker survives any
number of failing calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

from viksa_ai.devtools._terminal import printable
from viksa_ai.devtools.runner._agent import AgentSource, LoadedAgent, load_agent, write_working_dir
from viksa_ai.devtools.runner._auth import AuthConfig, Redactor, SecretsError
from viksa_ai.devtools.runner._call import PreparedCall, prepare_call_on_loop
from viksa_ai.devtools.runner._environ import child_environment
from viksa_ai.devtools.runner._errors import (
    AgentImportError,
    AgentLoadError,
    AuthNotConfiguredError,
    CpuLimitError,
    DiskLimitError,
    EndpointError,
    EndpointNotFoundError,
    EndpointTimeoutError,
    InvalidInputError,
    MemoryLimitError,
    OutputLimitError,
    ProcessLimitError,
    ResourceLimitError,
    ResultLimitError,
    RunnerError,
    WorkerClosedError,
    WorkerCrashedError,
)
from viksa_ai.devtools.runner._limits import Limits
from viksa_ai.devtools.runner._protocol import (
    CGROUP_OPTION,
    DISK_OPTION,
    FILES_OPTION,
    HEADER,
    KIND_AUTH,
    KIND_DISK_LIMIT,
    KIND_IMPORT,
    KIND_MEMORY_LIMIT,
    KIND_NOT_FOUND,
    KIND_OUTPUT_LIMIT,
    KIND_RESULT_LIMIT,
    MAX_READY_BYTES,
    MEMORY_OPTION,
    FrameTooLargeError,
    ProtocolError,
    check_reply,
    decode_body,
    encode_frame,
    frame_length,
)
from viksa_ai.devtools.runner._reap import kill_tree
from viksa_ai.devtools.runner._result import RunResult
from viksa_ai.devtools.runner._sandbox import (
    SANDBOX_CGROUP_PROCS,
    launchable,
    sandbox_backend,
    sandboxed_command,
    shm_bytes,
)
from viksa_ai.devtools.runner._shim import CHILD_MODULE, RUNNER_FD_OPTION
from viksa_ai.devtools.runner._tasks import POLL_SECONDS, TaskLimit
from viksa_ai.devtools.runner._tracing import worker_span
from viksa_ai.devtools.runner._workdir import Workdir
from viksa_ai.devtools.validate._issues import Issue
from viksa_ai.runtime import to_module_source

__all__ = ["AsyncAgentWorker"]

SHIM_MODULE = "viksa_ai.devtools.runner._shim"


def _bootstrap(module: str) -> str:
    """``python -c`` code running ``module`` as ``__main__``, as ``-m`` would.

    `-m` and `-c` put the working directory first on sys.path: the agent's own files
    would stand in for ours (a viksa_ai/ or a runpy.py of its own) before the child sets
    its limits. The first line takes the directory off before anything else is imported
    (what -P does, which Python 3.10 lacks); the child adds it back once the limits are
    set.
    """
    return (
        "import sys\n"
        "if not getattr(sys.flags, 'safe_path', False): del sys.path[0]\n"
        "import runpy\n"
        f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)\n"
    )


_CHILD_BOOTSTRAP = _bootstrap(CHILD_MODULE)
# The shim forks the child, which runs CHILD_MODULE as above (sys.path is already fixed).
_SHIM_BOOTSTRAP = _bootstrap(SHIM_MODULE)
DEFAULT_START_TIMEOUT = 60.0
_CLOSE_GRACE_SECONDS = 2.0
# A killed child is waited for this long before it is killed again, and at most
# _REAP_GIVE_UP_SECONDS in all: then its pipes are let go (see _reaped).
_REAP_RETRY_SECONDS = 2.0
_REAP_GIVE_UP_SECONDS = 10.0
_FORWARD_CHUNK = 64 * 1024
_POSIX = os.name == "posix"
# Unsandboxed on Linux the child is started through the shim (a subreaper, see _shim).
_SHIM = sys.platform.startswith("linux")
# How a child ended by its CPU limit exits: killed by SIGXCPU, or (in bwrap, which
# reports a signalled child as 128 + the signal) that number.
_SIGXCPU = getattr(signal, "SIGXCPU", None)
_CPU_LIMIT_CODES = () if _SIGXCPU is None else (-int(_SIGXCPU), 128 + int(_SIGXCPU))
# The same for SIGBUS: a page of a full tmpfs written through mmap has no write() to fail.
_SIGBUS = getattr(signal, "SIGBUS", None)
_BUS_ERROR_CODES = () if _SIGBUS is None else (-int(_SIGBUS), 128 + int(_SIGBUS))

Stderr = int | IO[Any] | None
_T = TypeVar("_T")


async def _to_the_end(clean_up: Coroutine[Any, Any, _T]) -> _T:
    """Run a clean-up to its end, however often the caller is cancelled meanwhile: its
    result, or else the first of those cancellations, which is not lost (not even to an
    error of the clean-up, which it then carries as its cause).

    ``asyncio.shield`` alone returns at the caller's next cancellation, and anyio (the
    MCP SDK, Starlette) cancels a task again at each await until it leaves a cancelled
    scope: the lock was then released while the child was still being killed, and the
    next call sent its request to that dying child (or lost its new child's task
    limit to the old clean-up). The cancellation raised is the caller's own (anyio
    knows its scope's by its message).
    """
    task = asyncio.ensure_future(clean_up)
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as exc:
            if task.done():
                raise
            cancelled = cancelled or exc
            continue
        except BaseException as error:
            if cancelled is None:
                raise
            # The caller was cancelled: that comes first (a task cancelled must end
            # cancelled, or anyio loses its scope); the clean-up's error is its cause.
            raise cancelled from error
        if cancelled is not None:
            raise cancelled
        return task.result()


class AsyncAgentWorker:
    """A warm child process running one agent's endpoints, for asyncio code.

    ``secrets`` maps ``METHOD.PARAM`` to a value (the environment variable a worker
    sets); ``auth_methods`` declares the agent's methods and their params (default: the
    manifest's ``auth_methods``). ``capture_output`` returns what an endpoint prints in
    :attr:`RunResult.output` instead of letting it reach the child's stderr, which goes
    to ``stderr`` (as in :mod:`subprocess`: ``None`` is ours; copied through a pipe, so
    the child never holds it). ``start_timeout``
    bounds starting the child and importing the agent at :meth:`start`; at a call, the
    call's timeout bounds the start and the call together.

    ``sandbox`` (default true) runs the child in the Linux sandbox where one is
    available (see :attr:`sandboxed`); ``False`` opts out. ``hidden_paths`` are
    directories the sandbox masks even inside one it shows. ``limits`` bound each call
    (:class:`Limits`; default ``Limits()``).

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
        sandbox: bool = True,
        hidden_paths: Sequence[Path] = (),
        limits: Limits | None = None,
    ) -> None:
        self._agent = agent if isinstance(agent, LoadedAgent) else load_agent(agent)
        declared = self._agent.auth_methods if auth_methods is None else auth_methods
        self._auth = AuthConfig(secrets, declared)
        # The secret values masked in what the agent writes: the worker's and each call's.
        self._masked = frozenset(value for value in self._auth.secret_values() if value)
        self._capture = capture_output
        self._stderr = stderr
        self._start_timeout = start_timeout
        self._sandbox_tool = sandbox_backend() if sandbox else None
        self._hidden = tuple(Path(p) for p in hidden_paths)
        self._limits = Limits() if limits is None else limits
        self._lock: asyncio.Lock | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._forwarder: _StderrCopy | None = None
        self._tasks: TaskLimit | None = None
        self._runner_pipe: int | None = None
        self._over_tasks = False
        self._workdir: Workdir | None = None
        self._next_id = 0
        self._starts = 0
        self._closed = False

    @property
    def agent(self) -> LoadedAgent:
        """The loaded agent this worker runs."""
        return self._agent

    @property
    def pid(self) -> int | None:
        """The process id of the running child, or ``None`` when none is running (the
        process the runner started: the sandbox's or the shim's, where there is one)."""
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    @property
    def starts(self) -> int:
        """How many child processes this worker has started (restarts included)."""
        return self._starts

    @property
    def sandboxed(self) -> bool:
        """Whether the child runs in the sandbox (asked for, and available here)."""
        return self._sandbox_tool is not None

    @property
    def limits(self) -> Limits:
        """The limits of each call."""
        return self._limits

    async def start(self) -> None:
        """Start the child and import the agent now rather than at the first call.

        Raises :class:`AgentImportError` (or :class:`AuthNotConfiguredError`) when
        importing the agent's modules fails, with the agent's traceback.
        """
        async with self._guard():
            await self._ensure_started(self._start_timeout, None)

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
        (seconds) defaults to the endpoint's ``execution_config.timeout_seconds``; it
        covers starting the child when none is running (an import that hangs ends the
        call with :class:`EndpointTimeoutError`, ``stage="import"``).
        """
        prepared = await prepare_call_on_loop(self._agent, endpoint, inputs, envelope)
        return await self.call_prepared(prepared, secrets=secrets, timeout=timeout)

    async def call_prepared(
        self,
        call: PreparedCall,
        *,
        secrets: Mapping[str, str] | None = None,
        timeout: float | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> RunResult:
        """Run a call made by :func:`prepare_call` with this worker's :attr:`agent`.

        The same as :meth:`call` without checking the inputs again: for callers that
        check them early (to refuse a request before recording it) and run later.

        ``on_sent`` runs once the call is on its way: just after it is handed to a
        running child (so it runs while the agent does), or before a child is started
        for it. Bookkeeping that must be done before the call ends but need not delay
        its start goes there. It is not called when the call fails before that; when it
        raises, the call is abandoned (its child stopped) and the error propagates.
        """
        with worker_span(call.endpoint.name, call.envelope) as trace:
            return await self._call_prepared(call, secrets, timeout, trace, on_sent)

    async def _call_prepared(
        self,
        call: PreparedCall,
        secrets: Mapping[str, str] | None,
        timeout: float | None,
        trace: dict[str, str] | None,
        on_sent: Callable[[], None] | None = None,
    ) -> RunResult:
        if call.agent is not self._agent:
            raise ValueError(
                "this call was prepared for another agent: prepare it with worker.agent"
            )
        target = call.endpoint
        try:
            auth = self._auth if secrets is None else self._auth.with_secrets(secrets)
        except SecretsError as exc:
            # A call fails with a RunnerError, as the local platform (whose vault may
            # hold any text) records it; the message names a secret, never its value.
            raise AgentLoadError(
                f"the call's secrets cannot be given to the agent: {exc}", endpoint=target.name
            ) from None
        # Every value this worker was given: a thread of an earlier call may still print
        # that call's (a secret since rotated) into this one's output.
        self._masked |= {value for value in auth.secret_values() if value}
        redact = Redactor(self._masked)
        limit = self._agent.timeout_of(target) if timeout is None else _seconds(timeout)
        async with self._guard():
            started = time.monotonic()
            if on_sent is not None and not self._running():
                on_sent()  # a start takes a while: the call is on its way already
                on_sent = None
            process = await self._ensure_started(limit, target.name)
            if self._forwarder is not None:
                # What the agent writes to stderr, now or later (a thread, a subprocess),
                # reaches the runner's stderr (a server's log) with every secret value
                # masked and, when the call's output is captured, its size bounded.
                self._forwarder.begin_call(self._masked)
            remaining = limit - (time.monotonic() - started)
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
                "limits": self._limits.per_call(),
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
            except UnicodeEncodeError:
                # A lone surrogate ("\ud800" in JSON) is no text UTF-8 can carry; the
                # platform refuses it at its edge (422) and so does the runner.
                issue = Issue(
                    "VX003",
                    "the inputs or the envelope hold a lone UTF-16 surrogate "
                    "(\\ud800-\\udfff), which is not Unicode text: send text",
                    path="inputs",
                )
                raise InvalidInputError([issue], endpoint=target.name) from None
            try:
                if remaining <= 0:
                    raise asyncio.TimeoutError
                with self._watching(process):
                    # Written now, not in wait_for's task: the child starts on the call
                    # one turn of the loop sooner (the write never blocks: a pipe write
                    # the OS cannot take at once is buffered, then drained below).
                    self._send(process, frame)
                    if on_sent is not None:
                        _caller_hook(on_sent)
                    reply = await asyncio.wait_for(self._answer(process), remaining)
            except _CallerHookError as failed:
                # The caller's error, not the worker's: the call is abandoned.
                await self._discard()
                raise failed.error from None
            except asyncio.TimeoutError:
                await self._discard()
                raise EndpointTimeoutError(limit, endpoint=target.name) from None
            except FrameTooLargeError as exc:
                # The child's own checks were bypassed (they run beside the agent's code).
                await self._discard()
                raise ResultLimitError(
                    f"the worker answered {exc.length} bytes, more than the {exc.limit} "
                    "its limits allow (result, output and an error's text): return and "
                    "print less, or pass larger Limits(result_bytes=..., output_bytes=...)",
                    limit=self._limits.result_bytes,
                    endpoint=target.name,
                ) from None
            except (OSError, EOFError, ProtocolError) as exc:
                returncode = await self._discard()
                raise self._died(returncode, exc, target.name) from None
            except BaseException:
                # Cancelled mid-call: the child still runs it, so it cannot serve another.
                await self._discard()
                raise
            if reply.get("id") != self._next_id:
                returncode = await self._discard()
                raise _crashed(returncode, ProtocolError("reply out of order"), target.name)
            if not reply.get("ok") and self._over_tasks_at_error(process):
                # The agent met a refused fork (EAGAIN) and failed, or failed with more
                # processes than it may have: that is the limit.
                await self._discard()
                raise self._process_limit(target.name)
        if reply.get("ok"):
            return RunResult(
                endpoint=target.name,
                value=reply.get("value"),
                duration_ms=float(reply.get("duration_ms") or 0.0),
                output=redact(reply.get("output")),
            )
        raise _error_from_reply(reply, redact, target.name, self._limits)

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
            # Even when the close itself is cancelled (again at each await, under anyio):
            # a later close() returns at once.
            try:
                await self._discard()
            finally:
                if self._workdir is not None:
                    self._workdir.remove()
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
            f"AsyncAgentWorker(agent={self._agent.origin!r}, pid={self.pid}, "
            f"sandboxed={self.sandboxed}, auth={self._auth!r})"
        )

    @contextlib.asynccontextmanager
    async def _guard(self) -> Any:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._closed:
                raise WorkerClosedError()
            yield

    async def _ensure_started(
        self, timeout: float, endpoint: str | None
    ) -> asyncio.subprocess.Process:
        """The running child, or a new one started within ``timeout`` seconds.

        ``endpoint`` names the call the start is for (its timeout is then the call's, and
        running out is an :class:`EndpointTimeoutError`); ``None`` for :meth:`start`.
        """
        process = self._process
        if process is not None and process.returncode is None:
            return process
        await self._discard()
        workdir = self._fresh_workdir()
        self._starts += 1
        self._over_tasks = False
        limits = self._limits
        tasks = None
        if limits.processes is not None and sys.platform.startswith("linux"):
            tasks = self._tasks = TaskLimit(limits.processes)
        procs = None if tasks is None else tasks.procs_file
        arguments = []
        if procs is not None:
            inside = procs if self._sandbox_tool is None else SANDBOX_CGROUP_PROCS
            arguments.append(f"{CGROUP_OPTION}{inside}")
        if limits.memory_bytes is not None:
            arguments.append(f"{MEMORY_OPTION}{limits.memory_bytes}")
        if limits.disk_bytes is not None:
            arguments.append(f"{DISK_OPTION}{limits.disk_bytes}")
        if limits.open_files is not None:
            arguments.append(f"{FILES_OPTION}{limits.open_files}")
        arguments += self._agent.modules
        runner_end: int | None = None
        options: IO[bytes] | None = None
        if self._sandbox_tool is not None:
            command, options = launchable(
                self._sandbox_tool,
                sandboxed_command(
                    self._sandbox_tool,
                    [sys.executable, "-c", _CHILD_BOOTSTRAP, *arguments],
                    workdir,
                    hidden=self._hidden,
                    tmp_bytes=limits.tmp_bytes(),
                    work_bytes=limits.tmp_bytes(),
                    cgroup_procs=procs,
                ),
            )
        elif _SHIM:
            # The shim's end of the pipe reads end-of-file when this process is gone.
            runner_end, self._runner_pipe = os.pipe()
            option = f"{RUNNER_FD_OPTION}{runner_end}"
            command = [sys.executable, "-c", _SHIM_BOOTSTRAP, option, *arguments]
        else:
            command = [sys.executable, "-c", _CHILD_BOOTSTRAP, *arguments]
        # The child never holds our stderr itself: through it (or /proc/self/fd/2) agent
        # code could read or truncate the server's log file, or read the terminal's keys.
        copy = (
            None
            if self._stderr == subprocess.DEVNULL
            else _StderrCopy(
                self._stderr,
                self._masked,
                self._limits.output_bytes if self._capture else None,
                escape=self._capture,
            )
        )
        try:
            try:
                spawn = asyncio.ensure_future(
                    asyncio.create_subprocess_exec(
                        *command,
                        stdin=asyncio.subprocess.PIPE,
                        stdout=asyncio.subprocess.PIPE,
                        stderr=subprocess.DEVNULL if copy is None else copy.write_end,
                        cwd=workdir,
                        env=child_environment(workdir, self._auth.environment()),
                        start_new_session=_POSIX,
                        pass_fds=tuple(
                            fd
                            for fd in (
                                runner_end,
                                None if options is None else options.fileno(),
                            )
                            if fd is not None
                        ),
                    )
                )
                try:
                    process = await asyncio.shield(spawn)
                except asyncio.CancelledError:
                    await _to_the_end(self._discard_spawned(spawn))
                    raise
            except BaseException:
                if copy is not None:
                    copy.abandon()
                self._close_runner_pipe()
                raise
            finally:
                if runner_end is not None:
                    os.close(runner_end)
                if options is not None:
                    options.close()
        except OSError as exc:
            if not self._closed:
                # e.g. E2BIG: a secret past the 128 KiB exec takes for one variable.
                raise AgentLoadError(
                    f"the agent's worker process could not be started ({exc}): check the "
                    "size of its secrets (at most 128 KiB each) and the Python installation"
                ) from None
            # close() removed the working directory while the child was being spawned.
            raise _closed_mid_start(exc) from None
        self._process = process
        if copy is not None:
            copy.start()
            self._forwarder = copy
        if self._closed:
            # close() ran while the child was being spawned and could not stop it.
            await self._discard()
            raise _closed_mid_start(None)
        try:
            with self._watching(process):
                # Bounded: agent code runs at import, and can write on the channel.
                ready = await asyncio.wait_for(self._read(process, MAX_READY_BYTES), timeout)
        except asyncio.TimeoutError:
            await self._discard()
            if endpoint is not None:
                raise EndpointTimeoutError(timeout, endpoint=endpoint, stage="import") from None
            raise AgentLoadError(
                f"importing the agent took more than {timeout:g} s: move slow "
                "work out of module level, or pass a longer start_timeout"
            ) from None
        except (OSError, EOFError, ProtocolError) as exc:
            returncode = await self._discard()
            raise self._died(returncode, exc, endpoint) from None
        except BaseException:
            await self._discard()
            raise
        if not ready.get("ok"):
            await self._discard()
            raise _error_from_reply(ready, self._auth.redactor(), endpoint, self._limits)
        if tasks is not None:
            tasks.confirm()
        return process

    async def _discard_spawned(self, spawn: asyncio.Future[asyncio.subprocess.Process]) -> None:
        """Stop the child of a spawn that was cancelled midway, once the spawn is done.

        asyncio's own clean-up of a cancelled spawn kills only the process it started
        (not the tree under a sandbox or the shim), and a pipe it connects after that
        clean-up stays open for good. So the spawn runs to its end (milliseconds), and
        its child is killed and reaped as any other.
        """
        await asyncio.wait({spawn})
        if not spawn.cancelled() and spawn.exception() is None:
            self._process = spawn.result()
            await self._discard()

    def _fresh_workdir(self) -> Path:
        # A restarted child gets the agent's files as shipped, not as a crash left them.
        if self._workdir is not None:
            self._workdir.remove()
        self._workdir = Workdir()
        write_working_dir(self._agent, self._workdir.path, to_module_source())
        return self._workdir.path

    @contextlib.contextmanager
    def _watching(self, process: asyncio.subprocess.Process) -> Iterator[None]:
        """Check the child's tree against the process limit while the block runs: past
        it, kill the tree (the block then sees the channel end, and :meth:`_died` says
        why). A timer, not a task: a call that ends before the first check costs only
        scheduling it."""
        tasks = self._tasks
        if tasks is None:
            yield
            return
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def check() -> None:
            nonlocal handle
            if process.returncode is not None:
                return
            if self._over(tasks, process):
                self._over_tasks = True
                _kill_tree(process, tasks)
            else:
                handle = loop.call_later(POLL_SECONDS, check)

        handle = loop.call_later(POLL_SECONDS, check)
        try:
            yield
        finally:
            if handle is not None:
                handle.cancel()

    def _over_tasks_at_error(self, process: asyncio.subprocess.Process) -> bool:
        # Checked on a failed call only: a successful one pays nothing.
        tasks = self._tasks
        return tasks is not None and self._over(tasks, process)

    def _over(self, tasks: TaskLimit, process: asyncio.subprocess.Process) -> bool:
        # A shim is the runner's process, not the agent's: it does not count.
        return tasks.over(process.pid, include_root=self._runner_pipe is None)

    def _process_limit(self, endpoint: str | None) -> ProcessLimitError:
        return ProcessLimitError(
            f"the call ran more than {self._limits.processes} processes and threads and "
            "all of them were stopped: start fewer (a fork bomb?), or pass larger "
            "Limits(processes=...)",
            limit=self._limits.processes,
            endpoint=endpoint,
        )

    def _died(
        self, returncode: int | None, cause: BaseException, endpoint: str | None
    ) -> RunnerError:
        if self._over_tasks:
            return self._process_limit(endpoint)
        if returncode in _CPU_LIMIT_CODES and self._limits.cpu_seconds is not None:
            return CpuLimitError(
                f"the call used more than its {self._limits.cpu_seconds:g} s of CPU time "
                "and its worker was stopped: pass larger Limits(cpu_seconds=...)",
                limit=self._limits.cpu_seconds,
                endpoint=endpoint,
            )
        folders = self._limits.tmp_bytes()
        if returncode in _BUS_ERROR_CODES and self._sandbox_tool is not None and folders:
            return DiskLimitError(
                "the agent's worker was killed by SIGBUS, most likely a write through mmap "
                "into a file of a full in-memory folder (the private /tmp or the working "
                f"directory, {folders} bytes each, or /dev/shm, {shm_bytes(folders)} bytes): "
                "write such files with write(), "
                "which fails with ENOSPC instead, write less, or pass larger "
                "Limits(disk_bytes=...)",
                limit=self._limits.disk_bytes,
                endpoint=endpoint,
            )
        return _crashed(returncode, cause, endpoint)

    def _close_runner_pipe(self) -> None:
        # The shim ends (with all it holds) at the end of this pipe, if it has not yet.
        pipe, self._runner_pipe = self._runner_pipe, None
        if pipe is not None:
            os.close(pipe)

    def _running(self) -> bool:
        """Whether the child is started and has not exited."""
        return self._process is not None and self._process.returncode is None

    def _send(self, process: asyncio.subprocess.Process, frame: bytes) -> None:
        assert process.stdin is not None
        process.stdin.write(frame)

    async def _answer(self, process: asyncio.subprocess.Process) -> dict[str, Any]:
        assert process.stdin is not None
        await process.stdin.drain()
        return await self._read(process, self._limits.reply_bytes())

    async def _read(self, process: asyncio.subprocess.Process, limit: int | None) -> dict[str, Any]:
        if process is not self._process:
            # Discarded (a close from another task) while we were away: its clean-up
            # reads what is left in the pipe, and two readers of one stream are an error.
            raise EOFError("the worker was stopped")
        return await _read_frame(process, limit)

    async def _discard(self) -> int | None:
        """Kill the current child and its process group, reap it, and forget it: to the
        end, however often the caller is cancelled meanwhile (see :func:`_to_the_end`)."""
        return await _to_the_end(self._discard_now())

    async def _discard_now(self) -> int | None:
        process, self._process = self._process, None
        if process is None:
            tasks, self._tasks = self._tasks, None
            if tasks is not None:
                tasks.close()  # the child was never started
            return None
        if process.returncode is None:
            _kill_tree(process, self._tasks)
        elif self._tasks is not None:
            # The child died first: what it started was re-parented past it.
            self._tasks.kill_all()
        # A reply left unread in the pipe (refused as too large, or cut by a timeout)
        # pauses the pipe's transport, so it never sees the end of the file and
        # ``wait()`` never returns: read what is left until the pipe ends.
        drain = asyncio.ensure_future(_drain(process.stdout))
        try:
            returncode = await _reaped(process, self._tasks)
        finally:
            drain.cancel()
        tasks, self._tasks = self._tasks, None
        if tasks is not None:
            tasks.close()
        self._close_runner_pipe()
        forwarder, self._forwarder = self._forwarder, None
        if forwarder is not None:
            # Its pipe ends with the child's tree; a descendant still holding it, or a
            # stderr nobody reads, cannot hold us up.
            await forwarder.wait(_CLOSE_GRACE_SECONDS)
        # Closing our end of stdin releases its transport now rather than at exit.
        if process.stdin is not None:
            process.stdin.close()
        return returncode


class _StderrCopy:
    """A thread copying the child's stderr pipe to ``target`` (``None``: our stderr),
    with the secret values it was given (:meth:`mask`) replaced by ``***``.

    A thread, not a task: a write to a stderr nobody reads blocks, and must block only
    this agent (its pipe fills and its writes wait), never the runner's event loop. It
    copies whole lines (a secret is not cut in two between reads), or
    :data:`_FORWARD_CHUNK` bytes of a longer one. With ``limit``, it copies at most that
    many bytes from the start of one call to the next (:meth:`begin_call`), drops the
    rest and says so in one line: a worker whose output is captured writes to the file
    descriptor only by going around the capture, and must not fill a server's log.
    With ``escape``, control characters are written as ``\\uXXXX``: such a worker's
    stderr is a server's log (``viksa dev``'s terminal), not the agent's own terminal
    output, and an escape sequence there could set the clipboard or retitle the window.
    """

    def __init__(
        self,
        target: Stderr,
        secrets: Iterable[str] = (),
        limit: int | None = None,
        *,
        escape: bool = False,
    ) -> None:
        self._read_end, self.write_end = os.pipe()
        self._target = target
        self._secrets: frozenset[str] = frozenset()
        self._redact = Redactor(())
        self._limit = limit
        self._escape = escape
        self._copied = 0
        self.begin_call(secrets)
        self._thread = threading.Thread(target=self._run, name="viksa-agent-stderr", daemon=True)

    def begin_call(self, secrets: Iterable[str]) -> None:
        """A call starts: mask ``secrets`` from now on; copy up to the limit again."""
        self._copied = 0
        known = frozenset(value for value in secrets if value)
        if known != self._secrets:
            self._secrets = known
            # One assignment: the copying thread reads either redactor, whole.
            self._redact = Redactor(known)

    def start(self) -> None:
        """Start copying; the child, spawned, holds the only write end from now on."""
        os.close(self.write_end)
        self._thread.start()

    def abandon(self) -> None:
        """Close both ends (the child was not spawned)."""
        os.close(self.write_end)
        os.close(self._read_end)

    async def wait(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the copy to reach the end of the pipe."""
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join, timeout)

    def _run(self) -> None:
        pending = b""
        with open(self._read_end, "rb", buffering=0) as pipe:
            while chunk := pipe.read(_FORWARD_CHUNK):
                pending += chunk
                end = max(pending.rfind(b"\n"), pending.rfind(b"\r")) + 1
                if not end and len(pending) >= _FORWARD_CHUNK:
                    end = len(pending)
                if end:
                    self._forward(pending[:end])
                    pending = pending[end:]
        if pending:
            self._forward(pending)

    def _forward(self, data: bytes) -> None:
        limit = self._limit
        if limit is not None:
            room = limit - self._copied
            self._copied += len(data)
            if room <= 0:
                return
            if len(data) > room:
                # Not a part of it: a part could end inside a secret, unmasked.
                note = f"[viksa: the agent's stderr is cut here, past {limit} bytes in a call]\n"
                data = note.encode()
        if self._escape:
            # Bytes that are not UTF-8 too: a lone 0x9b is an 8-bit CSI to some terminals.
            text = self._redact(data.decode("utf-8", "backslashreplace")) or ""
            chunk = printable(text).encode("utf-8")
        else:
            # surrogateescape: bytes that are not UTF-8 come out as they went in.
            text = self._redact(data.decode("utf-8", "surrogateescape")) or ""
            chunk = text.encode("utf-8", "surrogateescape")
        with contextlib.suppress(OSError, ValueError):
            if self._target is None or isinstance(self._target, int):
                os.write(2 if self._target is None else self._target, chunk)
            else:
                _write_to(self._target, chunk)


def _write_to(target: IO[Any], chunk: bytes) -> None:
    try:
        fd = target.fileno()
    except (OSError, ValueError, AttributeError):
        text = isinstance(target, io.TextIOBase)
        target.write(chunk.decode("utf-8", "replace") if text else chunk)
        target.flush()
        return
    os.write(fd, chunk)


async def _drain(stream: asyncio.StreamReader | None) -> None:
    """Read and drop what is left in ``stream`` until it ends."""
    if stream is None:
        return
    with contextlib.suppress(Exception):
        while await stream.read(1 << 16):
            pass


async def _read_frame(
    process: asyncio.subprocess.Process, limit: int | None = None
) -> dict[str, Any]:
    assert process.stdout is not None
    try:
        header = await process.stdout.readexactly(HEADER.size)
        body = await process.stdout.readexactly(
            frame_length(header) if limit is None else frame_length(header, limit)
        )
    except asyncio.IncompleteReadError:
        raise EOFError("the worker closed its channel") from None
    return check_reply(decode_body(body))


def _seconds(timeout: object) -> float:
    """A call's ``timeout`` as float seconds: positive, infinity for any larger value.

    Raises:
        TypeError: not a number. ValueError: not positive (True and False included).
    """
    if not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, got {type(timeout).__name__}")
    if isinstance(timeout, bool) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    # An int past the largest float would overflow in asyncio's timer.
    return math.inf if timeout > sys.float_info.max else float(timeout)


def _kill_tree(process: asyncio.subprocess.Process, tasks: TaskLimit | None) -> None:
    # The child (or its shim) leads its own session: killing the group ends what the
    # agent spawned in it; descendants that left it (setsid) were re-parented to the
    # child or the shim, subreapers, and siblings of the child are the shim's children:
    # all are found in /proc (in the sandbox the PID namespace ends them as well); the
    # pids cgroup, where there is one, holds them all whatever their parents.
    if not _POSIX:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            process.kill()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGSTOP)
    if tasks is not None:
        tasks.kill_all()
    kill_tree(process.pid, include_root=False)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def _reaped(process: asyncio.subprocess.Process, tasks: TaskLimit | None) -> int | None:
    """The exit code of ``process``, killed already; ``None`` if it could not be had.

    ``wait()`` returns once the child has exited *and* its stdin and stdout pipes have
    closed. A process we did not find (outside every tree we know) may hold them open
    for good, and a close must never hang on it: the child is killed again every
    :data:`_REAP_RETRY_SECONDS`, and after :data:`_REAP_GIVE_UP_SECONDS` the pipes are
    closed on our side, which ends the wait once the child itself has exited.
    """
    waited = asyncio.ensure_future(process.wait())
    deadline = time.monotonic() + _REAP_GIVE_UP_SECONDS
    try:
        while True:
            left = deadline - time.monotonic()
            done, _ = await asyncio.wait({waited}, timeout=min(_REAP_RETRY_SECONDS, left))
            if done:
                return waited.result()
            if left <= _REAP_RETRY_SECONDS:
                break
            if process.returncode is None:
                _kill_tree(process, tasks)
            elif tasks is not None:
                tasks.kill_all()  # the child is gone: what holds its pipes is in its cgroup
        _release_pipes(process)
        done, _ = await asyncio.wait({waited}, timeout=_REAP_RETRY_SECONDS)
        return waited.result() if done else process.returncode
    finally:
        waited.cancel()


def _release_pipes(process: asyncio.subprocess.Process) -> None:
    """Close our ends of the child's pipes (what its ``wait()`` waits for besides it)."""
    transport = getattr(process, "_transport", None)
    close = getattr(transport, "close", None)
    if callable(close):
        close()


def _closed_mid_start(cause: BaseException | None) -> WorkerCrashedError:
    reason = f" ({cause})" if cause is not None else ""
    return WorkerCrashedError(
        f"the worker was closed while its process started{reason}: create a new worker",
        returncode=None,
    )


class _CallerHookError(Exception):
    """An error raised by a caller's ``on_sent``, carried past the call's own handlers."""

    def __init__(self, error: Exception) -> None:
        super().__init__("the caller's on_sent failed")
        self.error = error


def _caller_hook(hook: Callable[[], None]) -> None:
    try:
        hook()
    except Exception as exc:
        raise _CallerHookError(exc) from exc


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


# The child's limit kinds: the error, the Limits field, and what the agent can do instead.
_LIMIT_ERRORS: dict[str | None, tuple[type[ResourceLimitError], str, str]] = {
    KIND_MEMORY_LIMIT: (MemoryLimitError, "memory_bytes", "MemoryError; allocate less"),
    KIND_OUTPUT_LIMIT: (OutputLimitError, "output_bytes", "the output was cut; print less"),
    KIND_RESULT_LIMIT: (
        ResultLimitError,
        "result_bytes",
        "return less (store large data elsewhere)",
    ),
    KIND_DISK_LIMIT: (DiskLimitError, "disk_bytes", "write less"),
}


def _disk_bounds(limits: Limits) -> str:
    """What bounds agent code's writes, in words (``disk_bytes`` may be lifted)."""
    bounds = []
    if limits.disk_bytes is not None:
        bounds.append(f"a file may hold at most {limits.disk_bytes} bytes")
    if limits.tmp_bytes() is not None:
        bounds.append(f"the private /tmp and new files {limits.tmp_bytes()} bytes")
    return " and ".join(bounds) or "the disk is full"


def _error_from_reply(
    reply: Mapping[str, Any], redact: Redactor, endpoint: str | None, limits: Limits
) -> RunnerError:
    error = reply.get("error") or {}
    kind = error.get("kind")
    message = redact(str(error.get("message") or "")) or ""
    # Agent code names its exception classes too (type(name, (Exception,), {})).
    exception_type = redact(error.get("type"))
    traceback = redact(error.get("traceback"))
    output = redact(reply.get("output"))
    if kind == KIND_NOT_FOUND:
        return EndpointNotFoundError(message, endpoint=endpoint)
    limit_error = _LIMIT_ERRORS.get(kind)
    if limit_error is not None:
        cls, field, what = limit_error
        if kind == KIND_MEMORY_LIMIT:
            cause = "" if exception_type == "MemoryError" else f" ({exception_type}: {message})"
            message = (
                f"agent code ran out of its {limits.memory_bytes} bytes of address space{cause}"
            )
        elif kind == KIND_DISK_LIMIT:
            message = f"agent code could not write ({message}): {_disk_bounds(limits)}"
        limit = getattr(limits, field)
        return cls(
            f"{message}: {what}, or pass larger Limits({field}=...)",
            limit=limit,
            output=output,
            endpoint=endpoint,
        )
    at_import = reply.get("op") == "ready" or kind == KIND_IMPORT
    if kind == KIND_AUTH:
        if at_import:
            message = f"importing the agent raised ViksaAuthError: {message}"
        return AuthNotConfiguredError(
            message,
            method_id=redact(error.get("method_id")),
            param_name=redact(error.get("param_name")),
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
