"""The sandbox without bubblewrap: util-linux ``unshare`` and a mount script.

Where ``bwrap`` is missing but ``unshare`` (and ``setpriv``, both util-linux) can make
user (unless the runner is root), mount, PID, IPC and UTS namespaces,
:func:`unshare_command` builds the same file
system bubblewrap would: a fresh tmpfs root holding the same read-only binds (the
system directories, the ``/etc`` picks, the Python installation), a ``/dev`` of a few
devices and a small ``/dev/shm``, the namespace's own ``/proc``, a size-capped private
``/tmp``, the working directory (a size-capped tmpfs with the agent's files bound in
read-only),
the masks over hidden directories. ``pivot_root`` then makes it the root and detaches
the old one, the root is made read-only, and the trusted first step
(:mod:`._sandbox_init`) drops every capability (and sets no-new-privs; as root it
becomes an unprivileged uid) before the command runs. ``bash``, not ``sh``, runs the
script: dash drops environment variables whose names are not shell names, such as
``method.param``.

Differences from bubblewrap: the PID namespace's init is the mount script's shell
(bwrap's own process in bwrap); ``setpriv --pdeathsig`` and ``unshare --kill-child`` end
it when the runner dies (bwrap's ``--die-with-parent``); the session is the one the
runner started the process in (no terminal either way).
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Sequence
from pathlib import Path

__all__ = ["UNSHARE_ENV", "tmpfs_entries", "tmpfs_inodes", "unshare_command", "unshare_tool"]

UNSHARE_ENV = "VIKSA_UNSHARE"
"""An environment variable naming the unshare executable to use (tests set it to a
missing path to run as on a machine without one)."""
_USER_NAMESPACE = ("--user", "--map-root-user")
_NAMESPACES = ("--mount", "--pid", "--ipc", "--uts", "--fork")
_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
_NEW_ROOT = ".root"
_SCRIPT = ".sandbox.sh"
_TMP = "/tmp"  # noqa: S108 - the sandbox's own, private /tmp
_SHM = "/dev/shm"  # noqa: S108 - the sandbox's own too


# A tmpfs's size bounds its data, not its files: each empty file costs about 1 KiB of
# kernel memory, and by default a tmpfs takes as many as half the RAM's pages. One per
# page of its size (and those bound into it) bounds that memory to a fraction of it.
_BYTES_PER_INODE = 4096
_MIN_INODES = 1024


def tmpfs_inodes(limit: int, entries: int = 0) -> int:
    """The most files (inodes) a tmpfs of ``limit`` bytes holding ``entries`` gets."""
    return max(_MIN_INODES, int(limit) // _BYTES_PER_INODE) + entries


def tmpfs_entries(directory: Path) -> int:
    """The files and directories under ``directory``: each is an inode of a tmpfs over it."""
    return sum(len(dirs) + len(files) for _, dirs, files in os.walk(directory))


def _size(limit: int | None, entries: int = 0) -> str:
    if limit is None:
        return ""
    return f",size={int(limit)},nr_inodes={tmpfs_inodes(limit, entries)}"


def unshare_tool() -> tuple[str, str, str] | None:
    """The ``unshare``, ``setpriv`` and ``bash`` executables, or ``None`` when one is
    missing (bash runs the mount script: unlike dash it passes on environment variables
    whose names are not shell names, such as an agent's ``method.param``)."""
    configured = os.environ.get(UNSHARE_ENV)
    if configured is not None:
        unshare = configured if os.access(configured, os.X_OK) else None
    else:
        unshare = shutil.which("unshare")
    setpriv = shutil.which("setpriv")
    bash = shutil.which("bash")
    if unshare is None or setpriv is None or bash is None:
        return None
    return unshare, setpriv, bash


def _q(path: str) -> str:
    return shlex.quote(path)


def _ro_bind(script: list[str], path: str, new: str) -> None:
    target = _q(new + path)
    make = f"mkdir -p {target}" if os.path.isdir(path) else f"touch {target}"
    if not os.path.isdir(path):
        script.append(f"mkdir -p {_q(os.path.dirname(new + path))}")
    script += [
        make,
        f"mount --rbind {_q(path)} {target}",
        f"mount -o remount,bind,ro {target}",
    ]


def unshare_command(
    tools: tuple[str, str, str],
    command: Sequence[str],
    workdir: Path,
    shown: Sequence[str],
    *,
    system_dirs: Sequence[str] = (),
    etc_files: Sequence[str] = (),
    masks: Sequence[str] = (),
    tmp_bytes: int | None = None,
    work_bytes: int | None = None,
    shm_bytes: int = 64 * 1024 * 1024,
    binds: Sequence[tuple[str, str]] = (),
    proc_read_only: Sequence[str] = (),
    first_step: Sequence[str] = (),
    user_namespace: bool = True,
) -> list[str]:
    """``command`` run in the unshare sandbox, working in ``workdir``.

    ``shown`` are directories bound read-only (the Python installation),
    ``system_dirs`` too (a symlink stays a symlink), ``etc_files`` are bound read-only
    where they exist, ``masks`` are directories hidden by an empty read-only tmpfs,
    ``binds`` are ``(host file, path inside)`` pairs bound writable; ``/dev/shm`` is a
    tmpfs of ``shm_bytes``; ``proc_read_only`` are names in ``/proc`` made read-only.
    ``first_step`` is the command line (ending in ``--``) of the trusted step that drops
    every capability and execs ``command``. ``user_namespace`` false (the runner is
    root, and the first step makes agent code an unprivileged uid of the host) keeps the
    host's user namespace.
    """
    unshare, setpriv, bash = tools
    new = str(workdir.parent / _NEW_ROOT)
    os.makedirs(new, exist_ok=True)
    # Directories made on the way to a bind are 0755 whatever the runner's umask: an
    # agent running as another uid (the runner is root) goes through them.
    script = ["set -e", "umask 022", f"mount -t tmpfs -o mode=0755 tmpfs {_q(new)}"]
    for path in system_dirs:
        if os.path.islink(path):
            script.append(f"ln -s {_q(os.readlink(path))} {_q(new + path)}")
        elif os.path.isdir(path):
            _ro_bind(script, path, new)
    for path in etc_files:
        if os.path.exists(path):
            _ro_bind(script, path, new)
    script.append(f"mkdir -p {_q(new + '/dev')} {_q(new + '/proc')} {_q(new + _TMP)}")
    for device in _DEVICES:
        if os.path.exists(f"/dev/{device}"):
            target = _q(f"{new}/dev/{device}")
            script += [f"touch {target}", f"mount --bind /dev/{device} {target}"]
    script += [
        f"mkdir -p {_q(new + _SHM)}",
        f"mount -t tmpfs -o mode=1777{_size(shm_bytes)} tmpfs {_q(new + _SHM)}",
        f"ln -s /proc/self/fd {_q(new + '/dev/fd')}",
        # As bwrap's /dev: the standard streams, and a private devpts (pseudo-terminals).
        *(
            f"ln -s /proc/self/fd/{fd} {_q(new + '/dev/' + name)}"
            for fd, name in enumerate(("stdin", "stdout", "stderr"))
        ),
        f"mkdir {_q(new + '/dev/pts')}",
        f"mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts {_q(new + '/dev/pts')}",
        f"ln -s pts/ptmx {_q(new + '/dev/ptmx')}",
        f"mount -t proc proc {_q(new + '/proc')}",
        f"mount -t tmpfs -o mode=1777{_size(tmp_bytes)} tmpfs {_q(new + _TMP)}",
    ]
    for name in proc_read_only:
        target = _q(f"{new}/proc/{name}")
        script += [f"mount --bind {target} {target}", f"mount -o remount,bind,ro {target}"]
    for path in shown:
        _ro_bind(script, path, new)
    work = str(workdir)
    script.append(f"mkdir -p {_q(new + work)}")
    if work_bytes is not None:
        size = _size(work_bytes, tmpfs_entries(workdir))
        script.append(f"mount -t tmpfs -o mode=0700{size} tmpfs {_q(new + work)}")
        for root, dirs, files in os.walk(workdir):
            for name in dirs:
                script.append(f"mkdir -p {_q(new + os.path.join(root, name))}")
            for name in files:
                _ro_bind(script, os.path.join(root, name), new)
    else:
        script.append(f"mount --bind {_q(work)} {_q(new + work)}")
    for host, inside in binds:
        target = _q(new + inside)
        script += [
            f"mkdir -p {_q(os.path.dirname(new + inside))}",
            f"touch {target}",
            f"mount --bind {_q(host)} {target}",
        ]
    for path in masks:
        target = _q(new + path)
        script += [f"mount -t tmpfs -o ro tmpfs {target}"]
    script += [
        f"mkdir {_q(new + '/.old')}",
        f"cd {_q(new)}",
        "pivot_root . .old",
        "umount -l /.old",
        "rmdir /.old",
        "mount -o remount,bind,ro /",
        f"cd {_q(work)}",
        # The agent gets exactly the documented environment, not the shell's own (bash
        # sets SHLVL and _ for its commands: env removes them).
        "unset OLDPWD PWD",
        # Not exec: the shell stays the namespace's init, as bwrap's does. An init
        # ignores the signals it has no handler for, the kernel's SIGXCPU included; the
        # child must not be one. A child ended by a signal makes it exit 128 + that.
        # (Not its last command either: bash would exec that one.)
        'env -u SHLVL -u _ "$@"',
        "exit $?",
    ]
    # A file, not ``bash -c``: exec takes one argument of at most 128 KiB, and the script
    # grows with the agent's files (a few hundred would not fit). Beside the working
    # directory, where only the runner writes and agent code never sees; bash keeps it
    # open, and reads on after the old root is gone.
    script_file = workdir.parent / _SCRIPT
    script_file.write_text("\n".join(script) + "\n", encoding="utf-8")
    return [
        setpriv,
        "--pdeathsig",
        "SIGKILL",
        "--",
        unshare,
        *(_USER_NAMESPACE if user_namespace else ()),
        *_NAMESPACES,
        "--kill-child",
        "--",
        bash,
        str(script_file),
        *first_step,
        *command,
    ]
