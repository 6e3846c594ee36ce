"""Validation in worker processes, with a time limit.

``compile()`` of agent code runs in C: it holds the GIL and cannot be interrupted, and
CPython's symbol table is quadratic in the names and nested scopes of one function, so
a hostile main.py far below the size cap can compile for minutes. ``viksa dev`` and
``viksa validate`` therefore validate in a worker process (started with ``spawn``,
kept warm and shared by every caller in this process) and give up after
:data:`VALIDATION_TIME_LIMIT_SECONDS`: the worker is killed and
:class:`ValidationTimeoutError` raised; the next call starts a fresh worker.
"""

from __future__ import annotations

import atexit
import pickle
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
    "VALIDATION_TIME_LIMIT_SECONDS",
    "ValidationTimeoutError",
    "ValidationWorkers",
    "check_with_limits",
    "issues_with_limits",
    "shared_workers",
]

VALIDATION_TIME_LIMIT_SECONDS = 10.0
"""How long one validation may take (a worker's start is not counted)."""
_START_LIMIT_SECONDS = 120.0  # a worker's start: Python and the validator's imports
_WORKERS = 2
IN_PROCESS_MAX_CHARS = 20_000
"""Agents whose files hold at most this many characters in all are validated in the
calling process: even code built to compile slowly takes under 0.1 s at that size, less
than a worker round trip; larger ones go to a worker."""
_LENGTH = struct.Struct(">Q")


class ValidationTimeoutError(Exception):
    """Validation did not finish within its time limit; the message says what to do."""

    def __init__(self, limit: float) -> None:
        super().__init__(
            f"validation did not finish within {limit:g} seconds: main.py is too costly to "
            "compile (CPython's compiler is slow on functions holding thousands of names "
            "and nested scopes); split it into smaller functions or modules"
        )
        self.limit = limit


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

    def ask(self, manifest: Mapping[str, Any], time_limit: float) -> tuple[str, Any]:
        if not self.ready:
            # The start is not the caller's fault: it has a limit of its own.
            self.ready = self._exchange(None, _START_LIMIT_SECONDS) == ("ready", None)
        status, value = self._exchange(dict(manifest), time_limit)
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
                raise ValidationTimeoutError(time_limit)
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


class ValidationWorkers:
    """Up to ``size`` warm worker processes running ``check_agent_manifest``."""

    def __init__(self, size: int = _WORKERS) -> None:
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []

    def check(
        self, manifest: Mapping[str, Any], *, time_limit: float | None = None
    ) -> ValidationReport:
        """The validator's report on ``manifest``; blocks (call it off an event loop).

        Raises :class:`ValidationTimeoutError` after ``time_limit`` seconds
        (:data:`VALIDATION_TIME_LIMIT_SECONDS` by default).
        """
        if time_limit is None:
            time_limit = VALIDATION_TIME_LIMIT_SECONDS
        with self._slots:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            if worker is None or not worker.alive():
                worker = _Worker()
            try:
                status, value = worker.ask(manifest, time_limit)
            except BaseException:
                worker.kill()
                raise
            with self._lock:
                self._idle.append(worker)
        if status != "ok":
            raise RuntimeError(f"the validation worker failed: {value}")
        report: ValidationReport = value
        return report

    def close(self) -> None:
        """Stop the idle workers (busy ones stop when their call ends)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


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
    """The worker: one manifest in, one ``("ok", report)`` or ``("error", text)`` out."""
    from viksa_ai.devtools.validate import check_agent_manifest

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Nothing else may write to the channel (Python's warnings go to stderr anyway).
    sys.stdout = sys.stderr
    _write(stdout, ("ready", None))
    while (manifest := _read(stdin)) is not None:
        try:
            answer: tuple[str, Any] = ("ok", check_agent_manifest(manifest))
        except Exception as exc:  # sent back: the caller reports it
            answer = ("error", f"{type(exc).__name__}: {exc}")
        _write(stdout, answer)


if __name__ == "__main__":
    _serve()
