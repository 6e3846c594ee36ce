"""Agent working directories in the temporary folder, and removing those left behind.

Each child gets ``<tmp>/viksa-agent-XXXXXXXX/`` holding an ``owner`` file (the pid and
start time of the process that made it) and ``work/``, the agent's working directory.
The owner file sits beside ``work/``, not in it, so the agent (whose sandbox shows only
``work/``) cannot forge or remove it. A process killed with SIGKILL removes nothing:
:func:`remove_stale_workdirs` deletes the directories whose owner is gone, and only
those (the prefix and a readable owner file both say the runner made them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["WORKDIR_PREFIX", "Workdir", "remove_stale_workdirs"]

WORKDIR_PREFIX = "viksa-agent-"
_OWNER_FILE = "owner"
_WORK = "work"


def _start_time(pid: int) -> str:
    """When ``pid`` started (clock ticks since boot) on Linux; ``""`` where unknown.

    With the pid it names one process: a pid reused by a later process differs here.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rpartition(")")[2].split()
    # Field 22 of stat(5); the fields after the command name start at field 3.
    return fields[19] if len(fields) > 19 else ""


def _is_alive(pid: int, started: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive
    except OSError:
        return False
    return not started or _start_time(pid) in ("", started)


class Workdir:
    """A fresh ``viksa-agent-*`` directory owned by this process; :attr:`path` is ``work/``."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
        pid = os.getpid()
        (self.root / _OWNER_FILE).write_text(f"{pid} {_start_time(pid)}\n", encoding="ascii")
        self.path = self.root / _WORK
        self.path.mkdir(mode=0o700)

    def remove(self) -> None:
        """Delete the directory and everything the agent left in it."""
        shutil.rmtree(self.root, ignore_errors=True)


def remove_stale_workdirs(tmp: Path | None = None) -> int:
    """Delete the agent working directories whose owning process is gone; how many.

    Only directories named ``viksa-agent-*`` in ``tmp`` (default: the temporary folder)
    with an owner file naming a dead process are removed; those of live runners, and any
    directory without a readable owner file, are left alone.
    """
    folder = Path(tempfile.gettempdir()) if tmp is None else tmp
    removed = 0
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(WORKDIR_PREFIX)]
    except OSError:
        return 0
    for root in candidates:
        try:
            if root.is_symlink() or not root.is_dir():
                continue
            text = (root / _OWNER_FILE).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            continue
        parts = text.split()
        with contextlib.suppress(ValueError, IndexError):
            pid = int(parts[0])
            started = parts[1] if len(parts) > 1 else ""
            if pid > 0 and not _is_alive(pid, started):
                shutil.rmtree(root, ignore_errors=True)
                removed += not root.exists()
    return removed
