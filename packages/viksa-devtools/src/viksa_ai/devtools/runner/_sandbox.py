"""The Linux sandbox agent code runs in: bubblewrap with user, mount and PID namespaces.

:func:`sandbox_available` probes once per process whether ``bwrap`` can make the
namespaces here. :func:`sandboxed_command` wraps the child's command line so that inside:

- the file system is a fresh one holding only the system directories (read-only),
  a few files of ``/etc`` a program needs (name resolution, certificates, time zone,
  users), the Python installation (``sys.prefix``, ``sys.base_prefix``, the directories
  of ``sys.path``, read-only), the agent's working directory (the only writable place
  besides a private, empty ``/tmp``; both size-capped tmpfs where bwrap has ``--size``,
  the agent's own files bound into the first), a minimal ``/dev`` and the namespace's
  own ``/proc``;
  the user's home, the platform's data directory and other agents' working directories
  are not there;
- the agent sees only its own processes (PID namespace): no ``/proc`` of the server or
  of other agents; when the child ends, or the runner dies (``--die-with-parent``),
  the kernel kills every process of the namespace, ``setsid()`` or not;
- no capabilities, a new session (no terminal to inject keystrokes into), and its own
  IPC and host name; the network is the host's (agents call web APIs);
- each tmpfs the agent writes holds at most one file per 4 KiB of its size;
- a runner started as root runs agent code as :data:`SANDBOX_UID`, a uid of the host
  without privileges and without supplementary groups (the sandbox then keeps the
  host's user namespace: a user namespace of bwrap maps a single uid, root's); any
  other runner's agent code keeps the runner's uid, in a user namespace.

bwrap leaves the trusted first step (:mod:`._sandbox_init`, run before anything of the
agent's) the few capabilities it needs to set the tmpfs's file counts, join the pids
cgroup and change uid; it drops every one of them before it execs the child.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from viksa_ai.devtools.runner import _sandbox_init
from viksa_ai.devtools.runner._errors import AgentLoadError
from viksa_ai.devtools.runner._unshare import (
    tmpfs_entries,
    tmpfs_inodes,
    unshare_command,
    unshare_tool,
)

__all__ = [
    "BWRAP_ENV",
    "PROC_READ_ONLY",
    "SANDBOX_CGROUP_PROCS",
    "SANDBOX_UID",
    "SANDBOX_UID_ENV",
    "SHM_BYTES",
    "launchable",
    "sandbox_available",
    "sandbox_backend",
    "sandbox_status",
    "sandbox_tool",
    "sandboxed_command",
    "shm_bytes",
]

BWRAP_ENV = "VIKSA_BWRAP"
"""An environment variable naming the bwrap executable to use (tests set it to a
missing path to run as on a machine without a sandbox)."""
SHM_BYTES = 64 * 1024 * 1024
"""The most the sandbox's ``/dev/shm`` holds (semaphores and shared memory, not files)."""
SANDBOX_CGROUP_PROCS = "/run/viksa/cgroup.procs"
"""Where the sandbox shows the ``cgroup.procs`` file of the child's pids cgroup."""
SANDBOX_UID = 65534
"""The uid and gid agent code runs as in the sandbox when the runner is root
(``nobody`` and ``nogroup`` on most distributions), unless :data:`SANDBOX_UID_ENV` says."""
SANDBOX_UID_ENV = "VIKSA_SANDBOX_UID"
"""An environment variable of the runner: ``UID`` or ``UID:GID`` (positive numbers) for
agent code of a root runner, e.g. a uid no other process of the host uses."""
# What bwrap leaves the first step: CAP_SYS_ADMIN sets the tmpfs's file counts (bwrap's
# --tmpfs takes no nr_inodes), CAP_SETPCAP empties the bounding set; as root also
# CAP_CHOWN (the agent's writable folders), CAP_SETUID and CAP_SETGID (its uid); else
# CAP_SETFCAP (the kernel asks for it to map uid 0 of a namespace into a nested one).
_FIRST_STEP_CAPS = ("CAP_SYS_ADMIN", "CAP_SETPCAP")
_ROOT_FIRST_STEP_CAPS = ("CAP_CHOWN", "CAP_SETUID", "CAP_SETGID")
_USER_FIRST_STEP_CAPS = ("CAP_SETFCAP",)
_TMP = "/tmp"  # noqa: S108 - the sandbox's own, private /tmp
_SHM = "/dev/shm"  # noqa: S108 - the sandbox's own too
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = (
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/passwd",
    "/etc/group",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/mime.types",
)
# Parts of /proc whose files the kernel guards by owner alone (a global sysctl, the
# sysrq trigger, IRQ affinities...): to agent code running with the runner's uid, root
# in a container, they are writable even without capabilities. Read-only in the sandbox
# (bwrap covers them only when it can write them, never /proc/sys as root).
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus", "fs")
# Directories of the /etc picks that hold secrets of the host (TLS private keys),
# readable to agent code when the runner is root: masked like a data directory.
_SECRET_DIRS = ("/etc/ssl/private",)
_PROBE_TIMEOUT = 10.0
# The longest sandbox command line passed to exec as it is (see launchable).
_INLINE_ARGUMENT_BYTES = 128 * 1024
# What bubblewrap parses at most, from its command line and --args together.
_BWRAP_MAX_ARGUMENTS = 9000


def sandbox_tool() -> str | None:
    """The bwrap executable to use, or ``None`` when there is none (or not on Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    configured = os.environ.get(BWRAP_ENV)
    if configured is not None:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("bwrap") or (
        "/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None
    )


@functools.lru_cache(maxsize=4)
def _probe(tool: str) -> bool:
    # The whole sandbox, first step included, with a small tmpfs to remount.
    try:
        with tempfile.TemporaryDirectory(prefix="viksa-probe-") as scratch:
            work = Path(scratch) / "work"
            work.mkdir()
            size = 1024 * 1024
            probe = ["/bin/sh", "-c", "exit 0"]
            command = sandboxed_command(tool, probe, work, tmp_bytes=size, work_bytes=size)
            return _runs(command)
    except OSError:
        return False


@functools.lru_cache(maxsize=4)
def _probe_unshare(tools: tuple[str, str, str]) -> bool:
    try:
        with tempfile.TemporaryDirectory(prefix="viksa-probe-") as scratch:
            work = Path(scratch) / "work"
            work.mkdir()
            command = _unshare_sandbox(
                tools, ["/bin/sh", "-c", "exit 0"], work, (), None, None, None
            )
            return _runs(command)
    except OSError:
        return False


def _runs(command: Sequence[str]) -> bool:
    """Whether ``command`` exits 0 within the probe's time."""
    try:
        done = subprocess.run(  # noqa: S603 - our own fixed command line
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=_PROBE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def sandbox_backend() -> str | None:
    """The executable agents are sandboxed with here: bwrap, else (bubblewrap missing or
    failing) util-linux ``unshare`` (see :mod:`._unshare`), else ``None``. Each is
    probed once per process and path."""
    tool = sandbox_tool()
    if tool is not None and _probe(tool):
        return tool
    fallback = unshare_tool()
    if fallback is not None and _probe_unshare(fallback):
        return fallback[0]
    return None


def sandbox_available() -> bool:
    """Whether agents can run sandboxed here (with bwrap, or unshare without it)."""
    return sandbox_backend() is not None


def sandbox_status(requested: bool = True) -> tuple[bool, str]:
    """Whether agents will run sandboxed, and one line saying so for a person.

    ``requested`` false (``--no-sandbox``) or no sandbox available: the line says agents
    run unsandboxed, and why.
    """
    if not requested:
        return False, "off (--no-sandbox): agents run unsandboxed, as this user"
    backend = sandbox_backend()
    bwrap = sandbox_tool()
    user = _agent_user()
    if user is None:
        how = "user, mount and PID namespaces"
    else:
        how = f"mount and PID namespaces, agents run as uid {user[0]}"
    if backend is not None and backend == bwrap:
        return True, f"on ({backend}: {how})"
    if not sys.platform.startswith("linux"):
        why = "only Linux has one"
    elif bwrap is None:
        why = "bubblewrap (bwrap) is not installed"
    else:
        why = "bwrap cannot create user namespaces here"
    if backend is not None:
        return True, f"on ({backend}, as {why}: {how})"
    if unshare_tool() is not None:
        why += "; neither can unshare"
    return False, f"none available ({why}): agents run unsandboxed, as this user"


# uid 0 inside, for the first step (bwrap would otherwise nest a second namespace for the
# runner's uid, whose capabilities reach no mount of the first).
_USER_NAMESPACE = ("--unshare-user", "--uid", "0", "--gid", "0")
_NAMESPACES = (
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--die-with-parent",
)


def _agent_user() -> tuple[int, int] | None:
    """The uid and gid agent code runs as when not the runner's: when the runner is root,
    :data:`SANDBOX_UID` or what :data:`SANDBOX_UID_ENV` names."""
    if os.geteuid() != 0:
        return None
    configured = os.environ.get(SANDBOX_UID_ENV, "").strip()
    if not configured:
        return SANDBOX_UID, SANDBOX_UID
    uid, _, gid = configured.partition(":")
    try:
        ids = int(uid), int(gid or uid)
    except ValueError:
        ids = (0, 0)
    if min(ids) <= 0:
        raise ValueError(
            f"{SANDBOX_UID_ENV} must be UID or UID:GID, positive numbers (not root's 0), "
            f"got {configured!r}: fix it, or unset it for {SANDBOX_UID}"
        )
    return ids


def _first_step(options: Sequence[str]) -> list[str]:
    """The command line of the trusted first step, up to the ``--`` before the child's."""
    script = os.path.realpath(_sandbox_init.__file__)
    return [sys.executable, "-I", "-S", script, *options, "--"]


def _first_step_options(
    workdir: Path, cgroup: bool, remounts: Sequence[tuple[str, int, int]]
) -> list[str]:
    """The first step's options: join the cgroup, remount ``(path, size, entries)``
    tmpfs with a file count, and as root give the writable folders (the working
    directory and the agent's own directories in it, /tmp, /dev/shm) to the agent's uid."""
    options = [f"--cgroup={SANDBOX_CGROUP_PROCS}"] if cgroup else []
    for path, size, entries in remounts:
        options.append(f"--tmpfs={size},{tmpfs_inodes(size, entries)},{path}")
    user = _agent_user()
    if user is not None:
        inside = [os.path.join(root, name) for root, dirs, _ in os.walk(workdir) for name in dirs]
        # Deepest first: the first step has no CAP_DAC_OVERRIDE to go through a directory
        # of the agent's (mode 0700) once it is no longer root's.
        folders = [*reversed(inside), str(workdir), _TMP, _SHM]
        options += [f"--owner={path}" for path in folders]
        options.append(f"--user={user[0]}:{user[1]}")
    else:
        # The first step runs as uid 0 of the sandbox's user namespace (the one that owns
        # its tmpfs); agent code sees the runner's uid, as in bwrap's own sandbox.
        options.append(f"--map-user={os.getuid()}:{os.getgid()}")
    return options


def _readable_to_all(directory: Path) -> None:
    """Let the agent's uid read the files the runner wrote (the parent stays private)."""
    for root, dirs, files in os.walk(directory):
        for name in dirs:
            path = os.path.join(root, name)
            os.chmod(path, os.stat(path).st_mode | 0o555)  # noqa: S103 - read, not write
        for name in files:
            path = os.path.join(root, name)
            os.chmod(path, os.stat(path).st_mode | 0o444)


def _python_dirs(workdir: Path, cwd: str) -> list[str]:
    """The directories of the Python installation the child needs, read-only."""
    dirs: list[str] = []
    candidates: Iterable[str] = (
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
        *sys.path,
    )
    # Never a whole folder others share: the temporary one holds other agents' directories.
    excluded = {
        os.path.realpath(cwd),
        os.path.realpath(workdir),
        os.path.realpath(tempfile.gettempdir()),
        "/",
        "/tmp",  # noqa: S108
        os.path.realpath(os.path.expanduser("~")),
    }
    for entry in candidates:
        if not entry:
            continue
        real = os.path.realpath(entry)
        # The directory the runner was started from may hold the platform's data: it is
        # never shown, even when it is on sys.path (``python -m`` puts it there).
        if real in excluded or not os.path.isdir(real) or real in dirs:
            continue
        dirs.append(real)
    return dirs


def _inside(path: str, directory: str) -> bool:
    """Whether ``path`` lies strictly inside ``directory`` (both real paths)."""
    return path != directory and os.path.commonpath([path, directory]) == directory


def _bind_system(args: list[str]) -> None:
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in _ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]


def shm_bytes(tmp_bytes: int | None) -> int:
    """The size of the sandbox's ``/dev/shm``: :data:`SHM_BYTES`, or ``tmp_bytes`` if less."""
    return SHM_BYTES if tmp_bytes is None else min(SHM_BYTES, tmp_bytes)


def _bind_contents(directory: Path) -> list[str]:
    """Read-only binds of every file under ``directory`` (and its empty directories) at
    the same path: the files the runner wrote, shown inside a fresh tmpfs mounted over
    it. Read-only: written through, they would be host disk outside the tmpfs's cap."""
    args: list[str] = []
    for root, dirs, files in os.walk(directory):
        if not dirs and not files and root != str(directory):
            args += ["--dir", root]
        for name in files:
            path = os.path.join(root, name)
            args += ["--ro-bind", path, path]
    return args


def sandboxed_command(
    tool: str,
    command: Sequence[str],
    workdir: Path,
    *,
    hidden: Sequence[Path] = (),
    tmp_bytes: int | None = None,
    work_bytes: int | None = None,
    cgroup_procs: str | None = None,
) -> list[str]:
    """``command`` run by ``tool`` (bwrap) in the sandbox, working in ``workdir``.

    ``hidden`` are directories masked by an empty, read-only directory even when they
    lie inside one that is shown (e.g. a data directory inside a source tree on
    ``sys.path``). ``tmp_bytes`` caps the private ``/tmp``: it lives in memory, outside
    the child's own memory limit (where bwrap is too old for ``--size``, it is not).
    ``work_bytes`` caps what agent code adds to ``workdir``: it is then a tmpfs of that
    size holding the files already there, each bound in read-only from the host.
    ``cgroup_procs`` (a cgroup's ``cgroup.procs`` file) is bound at
    :data:`SANDBOX_CGROUP_PROCS` for the child to join that cgroup.
    """
    fallback = unshare_tool()
    if fallback is not None and tool == fallback[0]:
        return _unshare_sandbox(
            fallback, command, workdir, hidden, tmp_bytes, work_bytes, cgroup_procs
        )
    user = _agent_user()
    caps = _FIRST_STEP_CAPS + (_ROOT_FIRST_STEP_CAPS if user else _USER_FIRST_STEP_CAPS)
    namespaces = _NAMESPACES if user is not None else (*_USER_NAMESPACE, *_NAMESPACES)
    args = [tool, *namespaces, "--new-session", "--cap-drop", "ALL"]
    for cap in caps:
        args += ["--cap-add", cap]
    _bind_system(args)
    # The private /tmp first: a Python installation under /tmp (a CI venv) is then shown.
    # Its size (and /dev/shm's, the working directory's) is set by the first step.
    args += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", _TMP]
    for name in _proc_read_only():
        args += ["--ro-bind", f"/proc/{name}", f"/proc/{name}"]
    # bwrap's /dev is a writable tmpfs of its own: read-only, with a small /dev/shm (POSIX
    # semaphores and shared memory need one), or it is memory for the agent to fill.
    args += ["--tmpfs", _SHM, "--remount-ro", "/dev"]
    remounts: list[tuple[str, int, int]] = []
    if tmp_bytes is not None:
        remounts += [(_TMP, tmp_bytes, 0), (_SHM, shm_bytes(tmp_bytes), 0)]
    shown = _python_dirs(workdir, os.getcwd())
    for path in shown:
        args += ["--ro-bind", path, path]
    work = str(workdir)
    if user is not None:
        _readable_to_all(workdir)
    if work_bytes is not None:
        args += ["--tmpfs", work]
        args += _bind_contents(workdir)
        remounts.append((work, work_bytes, tmpfs_entries(workdir)))
    else:
        args += ["--bind", work, work]
    for real in _masked(hidden, shown):
        # Read-only: a writable mask would be memory for the agent to fill.
        args += ["--tmpfs", real, "--remount-ro", real]
    if cgroup_procs is not None:
        # That one file only: agent code can move itself into its own cgroup, no other.
        args += ["--bind", cgroup_procs, SANDBOX_CGROUP_PROCS]
    options = _first_step_options(workdir, cgroup_procs is not None, remounts)
    if user is not None:
        args += _open_parents(args)
    # The root bwrap builds (the directories leading to those shown) is read-only too:
    # the working directory and /tmp are the only places an agent writes.
    args += ["--remount-ro", "/", "--chdir", work, "--", *_first_step(options), *command]
    return args


# bwrap's operations that take a path inside the sandbox: how many arguments each takes,
# the destination last.
_DESTINATION_OPS = {"--ro-bind": 2, "--bind": 2, "--symlink": 2, "--tmpfs": 1, "--dir": 1}
_OWN_FILE_SYSTEMS = {"--dev": 1, "--proc": 1}


def launchable(tool: str, command: list[str]) -> tuple[list[str], IO[bytes] | None]:
    """``command`` (made by :func:`sandboxed_command` for ``tool``) in a form exec takes,
    and the file to pass its process by descriptor (close it once the process started).

    bwrap gets one argument per file of the agent: past :data:`_INLINE_ARGUMENT_BYTES`
    its options go to an unlinked temporary file it reads from ``--args FD`` (exec takes
    at most 2 MiB of arguments on most Linux). ``None``: the command fits as it is.
    """
    fallback = unshare_tool()
    if fallback is not None and tool == fallback[0]:
        return command, None  # the unshare sandbox's script is a file already
    if len(command) - 1 > _BWRAP_MAX_ARGUMENTS:
        raise AgentLoadError(
            "the sandbox cannot show this agent's files: bubblewrap takes at most "
            f"{_BWRAP_MAX_ARGUMENTS} arguments, three for each file (about "
            f"{_BWRAP_MAX_ARGUMENTS // 3 - 100} files in all): ship fewer files (an archive "
            "the agent unpacks into /tmp at its first call), or run unsandboxed"
        )
    if sum(len(os.fsencode(arg)) + 1 for arg in command) <= _INLINE_ARGUMENT_BYTES:
        return command, None
    split = command.index("--")
    options = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    options.write(b"".join(os.fsencode(arg) + b"\0" for arg in command[1:split]))
    options.flush()
    options.seek(0)
    return [command[0], "--args", str(options.fileno()), *command[split:]], options


def _open_parents(args: Sequence[str]) -> list[str]:
    """``--chmod 0755`` for the directories bwrap made on its way to a destination.

    As root (no user namespace) bwrap makes them 0700: the agent's uid could not reach
    the Python installation, or its working directory, through them. A directory bound
    from the host (or inside one, or inside bwrap's /dev and /proc) is left alone."""
    destinations: list[str] = []
    fixed: list[str] = []
    index = 0
    while index < len(args):
        op = args[index]
        arity = _DESTINATION_OPS.get(op) or _OWN_FILE_SYSTEMS.get(op)
        if arity is None:
            index += 1
            continue
        destination = args[index + arity]
        destinations.append(destination)
        if op in ("--ro-bind", "--bind") or op in _OWN_FILE_SYSTEMS:
            fixed.append(destination)
        index += arity + 1
    parents: set[str] = set()
    for destination in destinations:
        parent = os.path.dirname(destination)
        while parent != "/" and parent not in parents:
            parents.add(parent)
            parent = os.path.dirname(parent)
    chmods: list[str] = []
    for parent in sorted(parents):
        if not any(parent == path or _inside(parent, path) for path in fixed):
            chmods += ["--chmod", "0755", parent]
    return chmods


def _proc_read_only() -> list[str]:
    """The names of :data:`PROC_READ_ONLY` this kernel's ``/proc`` has."""
    return [name for name in PROC_READ_ONLY if os.path.exists(f"/proc/{name}")]


def _masked(hidden: Sequence[Path], shown: Sequence[str]) -> list[str]:
    """The directories of ``hidden`` that need a mask: those shown or inside one shown
    (masking one that holds a shown directory, such as the current directory holding
    .venv, would hide that too), and the secret directories of the ``/etc`` picks."""
    masks = [path for path in _SECRET_DIRS if os.path.isdir(path)]
    for hide in hidden:
        real = os.path.realpath(hide)
        if os.path.isdir(real) and any(real == path or _inside(real, path) for path in shown):
            masks.append(real)
    return masks


def _unshare_sandbox(
    tools: tuple[str, str, str],
    command: Sequence[str],
    workdir: Path,
    hidden: Sequence[Path],
    tmp_bytes: int | None,
    work_bytes: int | None,
    cgroup_procs: str | None,
) -> list[str]:
    shown = _python_dirs(workdir, os.getcwd())
    user = _agent_user()
    if user is not None:
        _readable_to_all(workdir)
    # The script mounts each tmpfs with its file count: nothing for the first step to remount.
    options = _first_step_options(workdir, cgroup_procs is not None, ())
    return unshare_command(
        tools,
        command,
        workdir,
        shown,
        system_dirs=_SYSTEM_DIRS,
        etc_files=_ETC_FILES,
        masks=_masked(hidden, shown),
        tmp_bytes=tmp_bytes,
        work_bytes=work_bytes,
        shm_bytes=shm_bytes(tmp_bytes),
        proc_read_only=_proc_read_only(),
        binds=() if cgroup_procs is None else ((cgroup_procs, SANDBOX_CGROUP_PROCS),),
        first_step=_first_step(options),
        user_namespace=user is None,
    )
