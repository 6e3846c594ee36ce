"""Bounding the processes and threads of one worker's tree (``Limits.processes``).

``RLIMIT_NPROC`` cannot do it: it counts every process of the real user across the
host, and root (the user a container or CI often runs as, also inside bubblewrap's user
namespace) is exempt from it. Two mechanisms instead, the first available one used:

- a **pids cgroup** (cgroup v1 ``pids`` hierarchy, or a cgroup v2 directory whose
  ``cgroup.subtree_control`` enables ``pids``) where this process may create a child
  cgroup: the kernel refuses a fork past ``pids.max`` (``EAGAIN``) and counts each
  refusal in ``pids.events``. The worker's child joins it first thing, before it
  imports agent code (``--cgroup=PATH``; in the sandbox that one ``cgroup.procs`` file
  is bound in, ``/sys`` is not: agent code cannot leave the cgroup). The runner checks
  that the child joined, and counts ``/proc`` if not.
- otherwise the runner **counts** the tree in ``/proc`` (Linux) while a call runs,
  and when one fails: a fork bomb grows for up to one poll interval before the tree is
  killed.

Either way, a call whose tree goes past the limit is ended: the runner kills the tree
and raises :class:`ProcessLimitError`. Where the cgroup exists, ending a call's tree
also kills every member of the cgroup (:meth:`TaskLimit.kill_all`), which nothing the
agent does (``setsid``, forking and exiting in a loop) can leave.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import signal
import sys

from viksa_ai.devtools.runner._reap import count_tasks

__all__ = ["POLL_SECONDS", "TaskLimit", "cgroup_parent"]

POLL_SECONDS = 0.05
"""How often a running call's tree is checked against its limit."""
_PREFIX = "viksa-agent-"
_counter = itertools.count()
# Reads of cgroup.procs before giving up on a cgroup whose members keep changing.
_KILL_ROUNDS = 1000
# Cgroups whose last processes were still exiting at close: removed at a later start.
_leftovers: set[str] = set()


def _own_cgroups() -> dict[str, str]:
    """``controller list -> path`` of this process (``""`` is cgroup v2's line)."""
    found: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as stream:
            for line in stream:
                parts = line.rstrip("\n").split(":", 2)
                if len(parts) == 3:
                    found[parts[1]] = parts[2]
    except OSError:
        pass
    return found


def _mounts() -> list[tuple[str, list[str], str, str]]:
    """``(fstype, super options, root, mount point)`` of each cgroup file system."""
    mounts = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as stream:
            for line in stream:
                before, _, after = line.partition(" - ")
                fields, tail = before.split(), after.split()
                if len(fields) > 4 and len(tail) > 2 and tail[0] in ("cgroup", "cgroup2"):
                    mounts.append((tail[0], tail[2].split(","), fields[3], fields[4]))
    except OSError:
        pass
    return mounts


def _under(mount_root: str, mount_point: str, path: str) -> str | None:
    """Where cgroup ``path`` is in a mount of ``mount_root`` at ``mount_point``."""
    if mount_root != "/" and path != mount_root and not path.startswith(mount_root + "/"):
        return None
    rest = path[len(mount_root) :] if mount_root != "/" else path
    return os.path.join(mount_point, rest.lstrip("/"))


@functools.lru_cache(maxsize=1)
def cgroup_parent() -> str | None:
    """A cgroup directory (with the pids controller) where this process may create
    children, or ``None`` (not Linux, no such controller, or not writable here)."""
    if not sys.platform.startswith("linux"):
        return None
    own = _own_cgroups()
    for fstype, options, root, point in _mounts():
        if fstype == "cgroup":
            path = next((p for c, p in own.items() if "pids" in c.split(",")), None)
            if path is None or "pids" not in options:
                continue
        else:
            path = own.get("")
            if path is None:
                continue
        directory = _under(root, point, path)
        if directory is None or not os.access(directory, os.W_OK):
            continue
        if fstype == "cgroup2":
            try:
                with open(os.path.join(directory, "cgroup.subtree_control")) as stream:
                    if "pids" not in stream.read().split():
                        continue
            except OSError:
                continue
        _remove_stale(directory)
        return directory
    return None


def _remove_stale(parent: str) -> None:
    """Remove the cgroups of runners that are gone (an empty cgroup only is removed)."""
    with contextlib.suppress(OSError):
        for name in os.listdir(parent):
            owner = name[len(_PREFIX) :].split("-")[0]
            if name.startswith(_PREFIX) and owner.isdigit() and not _alive(int(owner)):
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(parent, name))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class TaskLimit:
    """At most ``limit`` tasks in one child's tree: a fresh pids cgroup per child where
    possible (:attr:`cgroup`), else counting ``/proc`` at :meth:`over`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.cgroup = self._make_cgroup()
        self._refused = 0

    def _make_cgroup(self) -> str | None:
        parent = cgroup_parent()
        if parent is None:
            return None
        for leftover in list(_leftovers):
            with contextlib.suppress(OSError):
                os.rmdir(leftover)
                _leftovers.discard(leftover)
        path = os.path.join(parent, f"{_PREFIX}{os.getpid()}-{next(_counter)}")
        try:
            os.mkdir(path)
        except OSError:
            return None
        try:
            with open(os.path.join(path, "pids.max"), "w", encoding="ascii") as stream:
                stream.write(str(self.limit))
        except OSError:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            return None
        return path

    @property
    def procs_file(self) -> str | None:
        """The ``cgroup.procs`` file the child writes to join the cgroup, if there is one."""
        return None if self.cgroup is None else os.path.join(self.cgroup, "cgroup.procs")

    def confirm(self) -> None:
        """After the child started: if it is not in the cgroup, count ``/proc`` instead."""
        if self.cgroup is None:
            return
        try:
            with open(os.path.join(self.cgroup, "pids.current"), encoding="ascii") as stream:
                joined = int(stream.read()) > 0
        except (OSError, ValueError):
            joined = False
        if not joined:
            self.close()

    def over(self, pid: int, *, include_root: bool = True) -> bool:
        """Whether the tree of ``pid`` went past the limit since the last check: the
        cgroup refused a fork, or (without one) ``/proc`` counts more tasks (``pid``'s
        own unless ``include_root`` is false)."""
        if self.cgroup is None:
            return count_tasks(pid, include_root=include_root) > self.limit
        refused = self._refusals()
        if refused > self._refused:
            self._refused = refused
            return True
        return False

    def _refusals(self) -> int:
        assert self.cgroup is not None
        try:
            with open(os.path.join(self.cgroup, "pids.events"), encoding="ascii") as stream:
                for line in stream:
                    name, _, value = line.partition(" ")
                    if name == "max":
                        return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def kill_all(self) -> None:
        """SIGKILL every process of the cgroup, again until none is left (bounded).

        Membership does not depend on parentage, so a process that forks and exits in
        a loop, or a pid reused, cannot hide from it as it can from a walk of
        ``/proc``; a small file read in microseconds, so the loop outruns any fork.
        """
        if self.cgroup is None:
            return
        procs = os.path.join(self.cgroup, "cgroup.procs")
        for _ in range(_KILL_ROUNDS):
            try:
                with open(procs, encoding="ascii") as stream:
                    members = [int(line) for line in stream if line.strip()]
            except (OSError, ValueError):
                return
            if not members:
                return
            for pid in members:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """Remove the cgroup (call once the tree is dead)."""
        if self.cgroup is not None:
            try:
                os.rmdir(self.cgroup)
            except FileNotFoundError:
                pass
            except OSError:
                _leftovers.add(self.cgroup)
            self.cgroup = None
