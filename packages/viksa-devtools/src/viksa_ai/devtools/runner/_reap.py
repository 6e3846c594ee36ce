"""Ending every process an agent started, even those that left its session (stdlib only).

Killing the child's process group misses a grandchild that called ``setsid()`` and was
orphaned. On Linux the child makes itself a *child subreaper*
(``prctl(PR_SET_CHILD_SUBREAPER)``): orphaned descendants are re-parented to it rather
than to init, so while the child lives every process of the agent is in its tree of
``/proc``. :func:`kill_tree` kills that tree, descendants first, until none is left.
In the sandbox the PID namespace does the same for the kernel's part.

The child imports this module, so it must stay free of third-party imports.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

__all__ = ["become_subreaper", "count_tasks", "descendants", "kill_tree"]

_PR_SET_CHILD_SUBREAPER = 36
# Walks of /proc before giving up on a tree that keeps changing (each walk kills what
# it finds alive, so a process forking as fast as it can is outrun within a few).
_ROUNDS = 200


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux); whether it worked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _processes() -> dict[int, tuple[int, bool, int]]:
    """``pid -> (parent pid, is a zombie, threads)`` of every process in ``/proc``."""
    parents: dict[int, tuple[int, bool, int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return parents
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stream:
                stat = stream.read()
        except OSError:
            continue
        # After the command name: state, ppid, ... num_threads (field 20 of stat(5)).
        fields = stat.rpartition(b")")[2].split()
        if len(fields) > 17:
            parents[int(name)] = (int(fields[1]), fields[0] == b"Z", int(fields[17]))
    return parents


def _tree(
    pid: int, processes: dict[int, tuple[int, bool, int]] | None = None
) -> tuple[list[int], list[int]]:
    """The descendants of ``pid``: those alive, and those dead but not reaped (zombies)."""
    if processes is None:
        processes = _processes()
    children: dict[int, list[int]] = {}
    for child, (parent, _, _) in processes.items():
        children.setdefault(parent, []).append(child)
    live: list[int] = []
    dead: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), ()):
            (dead if processes[child][1] else live).append(child)
            stack.append(child)
    return live, dead


def count_tasks(pid: int) -> int:
    """The threads of ``pid`` and of its live descendants, as a pids cgroup counts them
    (Linux ``/proc``; 0 where unknown)."""
    processes = _processes()
    live, _ = _tree(pid, processes)
    return sum(processes[p][2] for p in (pid, *live) if p in processes)


def descendants(pid: int) -> list[int]:
    """The live descendants of ``pid`` (Linux ``/proc``; elsewhere none are known).

    Zombies are walked through (the children of one just killed are not re-parented
    yet) but not returned: they are dead already.
    """
    return _tree(pid)[0]


def kill_tree(pid: int, *, include_root: bool = True) -> None:
    """SIGKILL every descendant of ``pid``, then ``pid`` itself unless ``include_root``
    is false.

    A walk of ``/proc`` is not a snapshot: a process seen alive when ``/proc`` was
    listed can fork, then exit before its own entry is read. It then looks like a
    zombie, and its child, younger than the listing, is not in it at all. So walks are
    repeated until one finds no pid, alive or dead, that an earlier walk had not seen:
    any process forked since the previous listing would be such a pid (or would leave
    one, its dead parent). Each killed process re-parents its children to ``pid`` (a
    subreaper), where the next walk finds them.
    """
    seen: set[int] = set()
    for _ in range(_ROUNDS):
        live, dead = _tree(pid)
        for victim in live:
            with contextlib.suppress(OSError):
                os.kill(victim, signal.SIGKILL)
        new = set(live + dead) - seen
        if not new:
            break
        seen.update(new)
    if include_root:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
