"""Ending every process an agent started, even those that left its session (stdlib only).

Killing the child's process group misses a grandchild that called ``setsid()`` and was
orphaned. On Linux the child makes itself a *child subreaper*
(``prctl(PR_SET_CHILD_SUBREAPER)``): orphaned descendants are re-parented to it rather
than to init, so while the child lives every process of the agent is in its tree of
``/proc``. Unsandboxed, the shim the child starts under (:mod:`._shim`) is one too,
and the parent of the child's siblings: its tree holds them all even after the child
died. :func:`kill_tree` kills that tree, descendants first, until none is left.
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


def _processes(kill_under: int | None = None) -> dict[int, tuple[int, bool, int]]:
    """``pid -> (parent pid, is a zombie, threads)`` of every process in ``/proc``.

    With ``kill_under``, each live descendant of that pid is SIGKILLed as soon as its
    entry is read (a descendant whose parent was read earlier in this walk). The entries
    are then read newest first: a process that forks and exits in a loop has, at any
    moment, one live pid, among the newest, and a parent of ``kill_under`` (its own
    parent exited: the subreaper adopted it), so it is read, and killed, microseconds
    after the listing rather than milliseconds.
    """
    processes: dict[int, tuple[int, bool, int]] = {}
    tree = {kill_under}
    try:
        names = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return processes
    if kill_under is not None:
        names.sort(key=int, reverse=True)
    for name in names:
        try:
            with open(f"/proc/{name}/stat", "rb") as stream:
                stat = stream.read()
        except OSError:
            continue
        # After the command name: state, ppid, ... num_threads (field 20 of stat(5)).
        fields = stat.rpartition(b")")[2].split()
        if len(fields) <= 17:
            continue
        pid, parent, zombie = int(name), int(fields[1]), fields[0] == b"Z"
        processes[pid] = (parent, zombie, int(fields[17]))
        if kill_under is not None and parent in tree:
            tree.add(pid)
            if not zombie:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
    return processes


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


def count_tasks(pid: int, *, include_root: bool = True) -> int:
    """The threads of ``pid`` (unless ``include_root`` is false) and of its live
    descendants, as a pids cgroup counts them (Linux ``/proc``; 0 where unknown)."""
    processes = _processes()
    live, _ = _tree(pid, processes)
    counted = (pid, *live) if include_root else live
    return sum(processes[p][2] for p in counted if p in processes)


def descendants(pid: int) -> list[int]:
    """The live descendants of ``pid`` (Linux ``/proc``; elsewhere none are known).

    Zombies are walked through (the children of one just killed are not re-parented
    yet) but not returned: they are dead already.
    """
    return _tree(pid)[0]


def kill_tree(pid: int, *, include_root: bool = True) -> None:
    """SIGKILL every descendant of ``pid``, then ``pid`` itself unless ``include_root``
    is false.

    A walk of ``/proc`` is not a snapshot, and it takes milliseconds where a process can
    fork and exit in a fraction of one: a process killed only after the whole walk has
    often left a child behind already. So each descendant is killed the moment its entry
    is read (its parent read earlier in the same walk), and walks are repeated until one
    finds no pid, alive or dead, that an earlier walk had not seen: any process forked
    since the previous listing would be such a pid (or would leave one, its dead
    parent). Each killed process re-parents its children to ``pid`` (a subreaper), where
    the next walk finds them.
    """
    seen: set[int] = set()
    for _ in range(_ROUNDS):
        found = _kill_walk(pid)
        new = found - seen
        if not new:
            break
        seen.update(new)
    if include_root:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _kill_walk(root: int) -> set[int]:
    """One walk of ``/proc`` killing the descendants of ``root``: the pids it found."""
    processes = _processes(kill_under=root)
    live, dead = _tree(root, processes)
    # A child listed before its parent (pids wrap around) is killed here, after the walk.
    for victim in live:
        with contextlib.suppress(OSError):
            os.kill(victim, signal.SIGKILL)
    return set(live + dead)
