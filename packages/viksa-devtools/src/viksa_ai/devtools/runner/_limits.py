"""Per-call resource limits of agent code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_CPU_SECONDS",
    "DEFAULT_DISK_BYTES",
    "DEFAULT_MEMORY_BYTES",
    "DEFAULT_OPEN_FILES",
    "DEFAULT_OUTPUT_BYTES",
    "DEFAULT_PROCESSES",
    "DEFAULT_RESULT_BYTES",
    "Limits",
]

DEFAULT_MEMORY_BYTES = 1024 * 1024 * 1024
DEFAULT_CPU_SECONDS = 300.0
DEFAULT_OUTPUT_BYTES = 1024 * 1024
DEFAULT_RESULT_BYTES = 16 * 1024 * 1024
# Threads count: a thread pool of 32 and a few subprocesses fit; a fork bomb does not.
DEFAULT_PROCESSES = 128
DEFAULT_DISK_BYTES = 1024 * 1024 * 1024
# Linux's usual soft limit: HTTP clients and pools fit; each descriptor can hold kernel
# memory outside memory_bytes (a socket's buffers, ~200 KiB), so it is bounded too.
DEFAULT_OPEN_FILES = 1024
# Room in a reply besides the value and the output: an error's message and traceback
# (cut by the child to 64 Ki characters each, up to 6 bytes each as JSON) and the rest.
_REPLY_ALLOWANCE = 1024 * 1024


_FIELDS = (
    "memory_bytes",
    "cpu_seconds",
    "output_bytes",
    "result_bytes",
    "processes",
    "disk_bytes",
    "open_files",
)


@dataclass(frozen=True)
class Limits:
    """What one call of agent code may use; ``None`` lifts a limit.

    - ``memory_bytes``: the child's address space (``RLIMIT_AS``, POSIX); an allocation
      past it raises ``MemoryError`` in the agent and the call ends with
      :class:`MemoryLimitError`. Default 1 GiB.
    - ``cpu_seconds``: CPU time of the call (``RLIMIT_CPU``, POSIX); past it the kernel
      ends the child and the call ends with :class:`CpuLimitError`. Default 300 s. What
      agent code leaves running between calls (a thread) gets as much: past it the
      kernel ends the idle worker, and the next call starts a new one.
    - ``output_bytes``: what the call may print when output is captured (UTF-8 bytes);
      past it writes raise and the call ends with :class:`OutputLimitError`. Default 1 MiB.
      What a captured worker writes to its stderr descriptor itself (around the capture)
      reaches the runner's stderr up to this many bytes per call; the rest is dropped.
    - ``result_bytes``: the size of the returned value as JSON (UTF-8 bytes); a larger
      one ends the call with :class:`ResultLimitError`. Default 16 MiB.
    - ``processes``: the tasks (processes and threads) of the worker's whole process
      tree, its own included (and the sandbox tool's two when counted in ``/proc``);
      past it every process of the call is killed and the call ends with
      :class:`ProcessLimitError`. A pids cgroup caps them where one is writable, else
      the runner counts them in ``/proc`` (Linux) while a call runs (every 50 ms) and
      when one fails. Default 128.
    - ``disk_bytes``: the largest file agent code may write (``RLIMIT_FSIZE``, POSIX)
      and, in the sandbox, the size of the private ``/tmp`` and of what agent code adds
      to its working directory (tmpfs, bounded by ``memory_bytes`` too); a write past
      either ends the call with :class:`DiskLimitError`. Default 1 GiB.
    - ``open_files``: the descriptors each process of the call may hold open
      (``RLIMIT_NOFILE``, POSIX); past it ``open()``/``socket()`` fail with ``EMFILE``
      (an :class:`EndpointError` unless the agent handles it). Each can pin kernel memory
      ``memory_bytes`` does not count (a socket's buffers): with ``processes`` it bounds
      that. Default 1024.
    """

    memory_bytes: int | None = DEFAULT_MEMORY_BYTES
    cpu_seconds: float | None = DEFAULT_CPU_SECONDS
    output_bytes: int | None = DEFAULT_OUTPUT_BYTES
    result_bytes: int | None = DEFAULT_RESULT_BYTES
    processes: int | None = DEFAULT_PROCESSES
    disk_bytes: int | None = DEFAULT_DISK_BYTES
    open_files: int | None = DEFAULT_OPEN_FILES

    def __post_init__(self) -> None:
        for name in _FIELDS:
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not value > 0):
                raise ValueError(f"Limits.{name} must be a positive number or None, got {value!r}")

    def tmp_bytes(self) -> int | None:
        """The size of the sandbox's private ``/tmp``: it lives in memory (outside the
        child's own memory limit) and is a place to write, so both limits bound it."""
        bounds = [b for b in (self.memory_bytes, self.disk_bytes) if b is not None]
        return min(bounds) if bounds else None

    def reply_bytes(self) -> int | None:
        """The most a child's reply to one call may hold; ``None`` when not bounded.

        The child checks the result and output itself, but agent code runs in the child
        and can switch that off: the runner refuses a longer reply. JSON escapes a
        control character in six bytes, hence the factor on the output.
        """
        if self.result_bytes is None or self.output_bytes is None:
            return None
        return self.result_bytes + 6 * self.output_bytes + _REPLY_ALLOWANCE

    def per_call(self) -> dict[str, Any]:
        """The limits the child applies to each call (the memory cap is set at its start)."""
        return {"cpu": self.cpu_seconds, "output": self.output_bytes, "result": self.result_bytes}
