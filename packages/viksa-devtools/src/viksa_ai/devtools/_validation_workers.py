"""Validation in worker processes, with a time limit.

``compile()`` of agent code and ``re`` searches run in C: they hold the GIL and cannot
be interrupted from another thread. CPython's symbol table is quadratic in the names
and nested scopes of one function, so a hostile main.py far below the size cap can
compile for minutes; an input's ``pattern`` can backtrack for hours on a crafted value.
``viksa dev`` and ``viksa validate`` therefore validate large agents in a worker
process (started with ``spawn``, kept warm and shared by every caller in this process)
and give up after :data:`VALIDATION_TIME_LIMIT_SECONDS`: the worker is killed and
:class:`ValidationTimeoutError` raised; the next call starts a fresh worker. Costly
pattern searches (see ``validate._pattern_search``) run in workers of their own, so
that they never wait behind a validation, and end themselves when out of time.
"""

from __future__ import annotations

import atexit
import pickle
import re
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from viksa_ai.devtools.validate import Issue, ValidationReport

__all__ = [
    "IN_PROCESS_MAX_CHARS",
    "SEARCH_WORKERS",
    "VALIDATION_TIME_LIMIT_SECONDS",
    "ValidationTimeoutError",
    "ValidationWorkers",
    "check_with_limits",
    "issues_with_limits",
    "search_in_worker",
    "shared_workers",
]

VALIDATION_TIME_LIMIT_SECONDS = 10.0
"""How long one validation may take (a worker's start is not counted)."""
_START_LIMIT_SECONDS = 120.0  # a worker's start: Python and the validator's imports
# A search ends itself at its limit; the worker is killed only this much later.
_SEARCH_GRACE_SECONDS = 1.0
_WORKERS = 2
SEARCH_WORKERS = 2
"""Worker processes for costly pattern searches (see :func:`search_in_worker`)."""
IN_PROCESS_MAX_CHARS = 20_000
"""Agents whose files hold at most this many characters in all are validated in the
calling process: even code built to compile slowly takes under 0.1 s at that size, less
than a worker round trip; larger ones go to a worker."""
_LENGTH = struct.Struct(">Q")
# The status of a job (or its answer) nested too deeply to pickle (pickle recurses).
_TOO_DEEP = "too_deep"


class ValidationTimeoutError(Exception):
    """Validation did not finish within its time limit; the message says what to do."""

    def __init__(self, limit: float) -> None:
        super().__init__(
            f"validation did not finish within {limit:g} seconds: main.py is too costly to "
            "compile (CPython's compiler is slow on functions holding thousands of names "
            "and nested scopes); split it into smaller functions or modules"
        )
        self.limit = limit


class _OutOfTimeError(Exception):
    """A job ran out of time (its worker ended it, or was killed)."""


class _BusyError(Exception):
    """No worker was free in time to take a job."""


class _Worker:
    """One ``python -m viksa_ai.devtools._validation_workers`` child (no agent code runs).

    A plain subprocess rather than ``multiprocessing``: spawning through it re-imports
    the caller's ``__main__``, which breaks scripts that lack the ``__main__`` guard.
    """

    def __init__(self) -> None:
        # Our own interpreter and module: no input reaches the command line.
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.ready = False

    def ask(self, job: tuple[str, Any], time_limit: float) -> tuple[str, Any]:
        if not self.ready:
            # The start is not the caller's fault: it has a limit of its own.
            self.ready = self._exchange(None, _START_LIMIT_SECONDS) == ("ready", None)
        status, value = self._exchange(job, time_limit)
        return str(status), value

    def _exchange(self, message: Any, time_limit: float) -> Any:
        """Send ``message`` (unless None) and read the answer, within ``time_limit``."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        # A timer kills a worker that runs out of time; the read below then ends.
        timer = threading.Timer(time_limit, self.process.kill)
        timer.start()
        try:
            if message is not None:
                _write(self.process.stdin, message)
            answer = _read(self.process.stdout)
        except (OSError, EOFError):
            answer = None
        finally:
            timer.cancel()
        if answer is None:
            self.kill()
            if self.process.returncode is not None and self.process.returncode < 0:
                raise _OutOfTimeError
            raise RuntimeError("the validation worker stopped unexpectedly")
        return answer

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def _write(stream: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def _read(stream: IO[bytes]) -> Any:
    """One value written by :func:`_write`, or None at the end of the stream."""
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        return None
    # Only our own worker writes here (this module, run by the same interpreter).
    return pickle.loads(data)  # noqa: S301


class _WorkerPool:
    """Up to ``size`` warm worker processes, one job at a time each."""

    def __init__(self, size: int = _WORKERS) -> None:
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []

    def run(
        self, job: tuple[str, Any], time_limit: float, *, wait: float | None = None
    ) -> tuple[str, Any]:
        """The worker's answer to ``job``; blocks. Raises :class:`_OutOfTimeError`, and
        :class:`_BusyError` when no worker is free within ``wait`` seconds (None: any)."""
        if not self._slots.acquire(timeout=wait):
            raise _BusyError
        try:
            return self._run(job, time_limit)
        finally:
            self._slots.release()

    def _run(self, job: tuple[str, Any], time_limit: float) -> tuple[str, Any]:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None or not worker.alive():
            worker = _Worker()
        try:
            answer = worker.ask(job, time_limit)
        except BaseException:
            worker.kill()
            raise
        with self._lock:
            self._idle.append(worker)
        return answer

    def close(self) -> None:
        """Stop the idle workers (busy ones stop when their job ends)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


class ValidationWorkers(_WorkerPool):
    """Up to ``size`` warm worker processes running ``check_agent_manifest``."""

    def check(
        self, manifest: Mapping[str, Any], *, time_limit: float | None = None
    ) -> ValidationReport:
        """The validator's report on ``manifest``; blocks (call it off an event loop).

        Raises :class:`ValidationTimeoutError` after ``time_limit`` seconds
        (:data:`VALIDATION_TIME_LIMIT_SECONDS` by default).
        """
        if time_limit is None:
            time_limit = VALIDATION_TIME_LIMIT_SECONDS
        try:
            status, value = self.run(("check", dict(manifest)), time_limit)
        except _OutOfTimeError:
            raise ValidationTimeoutError(time_limit) from None
        except RecursionError:  # pickling a manifest nested too deeply to send
            status = _TOO_DEEP
        if status == _TOO_DEEP:
            # As the validator reports such a manifest; never validated in this process
            # instead, where no time limit would hold.
            from viksa_ai.devtools.validate import ValidationReport
            from viksa_ai.devtools.validate._rules import too_deep

            return ValidationReport(None, (too_deep(),))
        if status != "ok":
            raise RuntimeError(f"the validation worker failed: {value}")
        report: ValidationReport = value
        return report


_shared: ValidationWorkers | None = None
_shared_lock = threading.Lock()


def shared_workers() -> ValidationWorkers:
    """The workers of this process (started on first use, stopped at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ValidationWorkers()
            atexit.register(_shared.close)
        return _shared


_searchers: _WorkerPool | None = None


def search_in_worker(pattern: str, value: str, time_limit: float) -> bool:
    """``re.search(pattern, value) is not None``, in a worker, within ``time_limit`` seconds.

    Blocks (call it off an event loop). Raises
    :class:`~viksa_ai.devtools.validate._pattern_search.PatternTimeoutError` when the
    search runs out of time.
    """
    from viksa_ai.devtools.validate._pattern_search import PatternTimeoutError

    global _searchers
    with _shared_lock:
        if _searchers is None:
            _searchers = _WorkerPool(SEARCH_WORKERS)
            atexit.register(_searchers.close)
        searchers = _searchers
    try:
        # Waiting for a searcher counts as searching: a flood of costly searches makes
        # the others wait one time limit at most, never a queue's length.
        status, value = searchers.run(
            ("search", (pattern, value, time_limit)),
            time_limit + _SEARCH_GRACE_SECONDS,
            wait=time_limit,
        )
    except _BusyError:
        raise PatternTimeoutError(time_limit, spent=True) from None
    except _OutOfTimeError:
        status = "timeout"
    if status == "timeout":
        raise PatternTimeoutError(time_limit)
    if status != "ok":
        raise RuntimeError(f"the pattern search worker failed: {value}")
    return bool(value)


def check_with_limits(
    manifest: Mapping[str, Any], *, time_limit: float | None = None
) -> ValidationReport:
    """``check_agent_manifest(manifest)`` within the limits (blocks: call it off a loop).

    Small agents (:data:`IN_PROCESS_MAX_CHARS`) are checked here, others in a worker of
    :func:`shared_workers` with ``time_limit`` (raises :class:`ValidationTimeoutError`).
    """
    if _source_chars(manifest) <= IN_PROCESS_MAX_CHARS:
        from viksa_ai.devtools.validate import check_agent_manifest

        return check_agent_manifest(manifest)
    return shared_workers().check(manifest, time_limit=time_limit)


def issues_with_limits(
    manifest: Mapping[str, Any], *, time_limit: float | None = None
) -> tuple[Issue, ...]:
    """The issues of ``manifest``, as :func:`check_with_limits` finds them.

    Small agents take the validator's fast path (no pydantic model for a plainly valid
    manifest): what ``viksa validate`` needs.
    """
    if _source_chars(manifest) <= IN_PROCESS_MAX_CHARS:
        from viksa_ai.devtools.validate._validate import manifest_issues

        return manifest_issues(manifest)
    return shared_workers().check(manifest, time_limit=time_limit).issues


def _source_chars(manifest: Mapping[str, Any]) -> int:
    files = manifest.get("files")
    if not isinstance(files, list):
        return 0
    return sum(
        len(f["content"])
        for f in files
        if isinstance(f, Mapping) and isinstance(f.get("content"), str)
    )


def _serve() -> None:
    """The worker: one job in, one ``(status, value)`` out, until stdin ends.

    Jobs are ``("check", manifest)`` (answers ``("ok", report)``) and ``("search",
    (pattern, value, time_limit))`` (answers ``("ok", found)`` or ``("timeout", None)``);
    a failure answers ``("error", text)``.
    """
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Nothing else may write to the channel (Python's warnings go to stderr anyway).
    sys.stdout = sys.stderr
    _write(stdout, ("ready", None))
    while (job := _read(stdin)) is not None:
        kind, payload = job
        try:
            if kind == "check":
                from viksa_ai.devtools.validate import check_agent_manifest

                answer: tuple[str, Any] = ("ok", check_agent_manifest(payload))
            else:
                answer = _search(*payload)
        except Exception as exc:  # sent back: the caller reports it
            answer = ("error", f"{type(exc).__name__}: {exc}")
        try:
            _write(stdout, answer)
        except RecursionError:  # a report holding values nested too deeply to pickle
            _write(stdout, (_TOO_DEEP, None))


def _search(pattern: str, value: str, time_limit: float) -> tuple[str, Any]:
    compiled = re.compile(pattern)
    if not hasattr(signal, "setitimer"):  # Windows: the caller kills the worker instead
        return "ok", compiled.search(value) is not None
    # re checks for signals while it backtracks: the alarm's exception ends the search,
    # so the worker answers (and, were its caller gone, exits) on time.
    previous = signal.signal(signal.SIGALRM, _out_of_time)
    signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        return "ok", compiled.search(value) is not None
    except _OutOfTimeError:
        return "timeout", None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _out_of_time(signum: int, frame: object) -> None:
    raise _OutOfTimeError


if __name__ == "__main__":
    _serve()
