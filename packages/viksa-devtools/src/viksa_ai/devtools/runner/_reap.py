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

__all__ = ["become_subreaper", "descendants", "kill_tree"]

_PR_SET_CHILD_SUBREAPER = 36
# A process forking as fast as it can is outrun only so many times.
_ROUNDS = 50


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


def _processes() -> dict[int, tuple[int, bool]]:
    """``pid -> (parent pid, is a zombie)`` of every process in ``/proc``."""
    parents: dict[int, tuple[int, bool]] = {}
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
        fields = stat.rpartition(b")")[2].split()
        if len(fields) > 1:
            parents[int(name)] = (int(fields[1]), fields[0] == b"Z")
    return parents


def descendants(pid: int) -> list[int]:
    """The live descendants of ``pid`` (Linux ``/proc``; elsewhere none are known).

    Zombies are walked through (the children of one just killed are not re-parented
    yet) but not returned: they are dead already.
    """
    processes = _processes()
    children: dict[int, list[int]] = {}
    for child, (parent, _) in processes.items():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), ()):
            if not processes[child][1]:
                found.append(child)
            stack.append(child)
    return found


def kill_tree(pid: int, *, include_root: bool = True) -> None:
    """SIGKILL every descendant of ``pid`` (repeatedly: killing one re-parents its
    children to ``pid``, a subreaper), then ``pid`` itself unless ``include_root`` is false.
    """
    for _ in range(_ROUNDS):
        found = descendants(pid)
        if not found:
            break
        for victim in found:
            with contextlib.suppress(OSError):
                os.kill(victim, signal.SIGKILL)
    if include_root:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
