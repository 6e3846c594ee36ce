"""One ``viksa dev`` per data file: an exclusive lock held while it serves.

Two platforms on one SQLite file would each think they own it: the second start fails
the first's running executions as ``interrupted``, gives the seeded user a new
password, and ``--reset`` deletes the data under the first. The lock is a ``.lock``
file beside the data file holding the owner's pid; the system releases it when the
process ends, however it ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no lock (nothing stops a second start there)
    fcntl = None  # type: ignore[assignment]

__all__ = ["DataFileLockError", "data_file_lock"]


class DataFileLockError(Exception):
    """The data file's lock cannot be taken: another process holds it, or no file."""


@contextmanager
def data_file_lock(data: Path) -> Iterator[None]:
    """Hold ``data``'s lock for the block, or raise :class:`DataFileLockError`.

    Creates the data file's folder (``0700``) as the store would.
    """
    lock = data.with_name(f"{data.name}.lock")
    try:
        data.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_NOFOLLOW: a symlink planted at the lock's name creates no file elsewhere.
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(lock, flags, 0o600)
    except OSError as exc:
        raise DataFileLockError(
            f"cannot open the data file {data}: {exc.strerror or exc}; pass another "
            "--data PATH, or --memory"
        ) from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.read(descriptor, 32).decode("ascii", "replace").strip()
                who = f" (pid {owner})" if owner.isdigit() else ""
                raise DataFileLockError(
                    f"the data file {data} is in use by another viksa dev{who}: stop that "
                    "one (Ctrl-C in its terminal), or give this one its own --data PATH "
                    "or --memory"
                ) from None
            os.ftruncate(descriptor, 0)
            os.write(descriptor, str(os.getpid()).encode("ascii"))
        yield
    finally:
        os.close(descriptor)  # releases the lock
