"""The first process of an unsandboxed worker: a subreaper holding the agent's whole tree.

Unsandboxed, only parentage ties the agent's processes to its worker, and
``clone(CLONE_PARENT)`` makes a process the worker's *sibling*: a child of whoever
started the worker, out of the worker's tree. So on Linux the runner does not start
the worker itself: it runs this module with ``--runner-fd=FD CHILD-ARGS...`` (as
``__main__``, through the same ``-c`` bootstrap as the child, which takes the agent's
working directory off ``sys.path``). This process makes itself a child subreaper and
forks before any agent code exists: the child runs :mod:`._child` (as ``__main__``,
with CHILD-ARGS, on the same stdin, stdout and stderr), this process stays its parent.
Every process the agent starts, the worker's siblings included, is then a descendant
of this one (orphans are re-parented to it), so a walk of ``/proc`` from its pid
(:func:`._reap.kill_tree`) finds them all, as the runner's kill does.

It reaps what ends, and ends, killing all its descendants first:

- when the worker ends: with the worker's exit status (a signal that killed the
  worker kills it too), so the runner sees the worker's end as before;
- when the runner is gone: FD is the read end of a pipe whose write end only the
  runner holds, which reads end-of-file once the runner exits (the end of the thread
  that started it does not count, unlike ``PR_SET_PDEATHSIG``); or when this process
  is re-parented (a runner that forked may have left the pipe open in its child).

Agent code runs as the same user and can still kill this process (its parent) before
escaping: only the sandbox's PID namespace or a pids cgroup holds against that.

Only the standard library and :mod:`._reap` are imported: this process stays small
(the worker imports the rest after the fork).
"""

from __future__ import annotations

import contextlib
import os
import runpy
import select
import signal
import sys
from types import FrameType

from viksa_ai.devtools.runner._reap import become_subreaper, kill_tree

__all__ = ["CHILD_MODULE", "RUNNER_FD_OPTION", "main"]

RUNNER_FD_OPTION = "--runner-fd="
"""The shim's first option: the descriptor of the pipe that ends with the runner."""
CHILD_MODULE = "viksa_ai.devtools.runner._child"
"""The worker's module: the shim runs it as ``__main__`` in the process it forks."""
# How often the shim checks that it was not re-parented (the pipe tells at once).
_PARENT_POLL_SECONDS = 0.5


def main(argv: list[str]) -> int:
    """Fork the worker (``argv[1:]`` are its arguments), watch it; the exit code."""
    if not argv or not argv[0].startswith(RUNNER_FD_OPTION):
        print(f"usage: _shim {RUNNER_FD_OPTION}FD CHILD-ARGS...", file=sys.stderr)
        return 2
    runner_fd = int(argv[0][len(RUNNER_FD_OPTION) :])
    become_subreaper()
    _no_core_files()
    parent = os.getppid()
    worker = os.fork()
    if worker == 0:
        os.close(runner_fd)
        sys.argv[1:] = argv[1:]
        # As ``python -m``: the worker (and the agent) see the module as __main__.
        runpy.run_module(CHILD_MODULE, run_name="__main__", alter_sys=True)
        return 0
    # The channel is the worker's. This process keeps its write end (never writing) so
    # that the runner sees it end only once this process has ended, with the worker's
    # status and nothing left running; its read end goes, so that writes to a dead
    # worker fail at once.
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    status = _watch(worker, runner_fd, parent)
    kill_tree(os.getpid(), include_root=False)
    # Nothing to flush or finalize here: skipping the interpreter's shutdown saves
    # milliseconds on every worker's close.
    os._exit(_end_as(status))


def _watch(worker: int, runner_fd: int, parent: int) -> int | None:
    """Reap children until the worker ends (its wait status) or the runner is gone."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    # A handler (doing nothing) makes SIGCHLD write to the wake-up pipe.
    signal.signal(signal.SIGCHLD, _ignore)
    signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    while True:
        status = _reap(worker)
        if status is not None:
            return status
        if os.getppid() != parent:
            return None
        ready, _, _ = select.select([runner_fd, wake_read], [], [], _PARENT_POLL_SECONDS)
        if runner_fd in ready:
            return None  # end of file: the runner never writes
        if wake_read in ready:
            os.read(wake_read, 4096)


def _reap(worker: int) -> int | None:
    """Reap every child that ended (adopted orphans too); the worker's wait status if
    it is one of them."""
    found = None
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return found
        if pid == 0:
            return found
        if pid == worker:
            found = status


def _end_as(status: int | None) -> int:
    """Exit as the worker did: its code, or killed by the signal that killed it."""
    if status is None:
        return 1
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return code
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
    return 128 - code  # a signal that does not end a process by default


def _ignore(signum: int, frame: FrameType | None) -> None:
    del signum, frame


def _no_core_files() -> None:
    # Ending as a worker killed by its CPU limit (SIGXCPU) would dump a core otherwise.
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
