"""The sandbox's trusted first step: the last privileged code before agent code runs.

Run inside the sandbox as ``python -I -S _sandbox_init.py OPTIONS -- COMMAND...``
(isolated: no environment variable, user site, site-packages or script directory
shapes what it imports; it imports the standard library only, read-only in the
sandbox), it holds the few capabilities the sandbox tool left it and:

- ``--cgroup=PATH`` joins the cgroup whose ``cgroup.procs`` is PATH (as root, before
  the uid changes: the file is root's);
- ``--tmpfs=SIZE,INODES,PATH`` remounts the tmpfs at PATH with ``size`` and
  ``nr_inodes`` (bubblewrap's ``--tmpfs`` takes no ``nr_inodes``: without it many empty
  files cost kernel memory the size does not count);
- ``--owner=PATH`` gives PATH to the agent's uid (with ``--user``);
- ``--user=UID:GID`` becomes that user, with no supplementary groups (a runner started
  as root runs agent code as an unprivileged uid, not as root);
- ``--map-user=UID:GID`` (in a user namespace, where the first step runs as its uid 0:
  only that uid owns the tmpfs it remounts) enters a nested user namespace in which
  that uid 0 is UID and GID, as bwrap does itself to show the runner's uid inside;

then drops every capability (bounding set, ambient, inheritable, permitted,
effective), sets no-new-privs, checks all of that in ``/proc/self/status`` and only
then execs COMMAND. Anything unexpected ends it with :data:`FAILED` before COMMAND
runs: the sandbox fails closed.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

__all__ = ["FAILED", "main"]

FAILED = 125
"""The exit code when the first step cannot set the sandbox up (COMMAND never ran)."""

_MS_NOSUID = 0x2
_MS_NODEV = 0x4
_MS_REMOUNT = 0x20
_PR_SET_PDEATHSIG = 1
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_CAPABILITY_VERSION_3 = 0x20080522
_CLONE_NEWUSER = 0x10000000
_CAP_FIELDS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


class _SetupError(Exception):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise _SetupError(f"{what}: {os.strerror(error)}")


def _remount(libc: ctypes.CDLL, path: str, size: int, inodes: int) -> None:
    # The flags bubblewrap mounts a tmpfs with: a remount clears those it is not given.
    options = f"size={size},nr_inodes={inodes}".encode()
    flags = _MS_REMOUNT | _MS_NOSUID | _MS_NODEV
    result = libc.mount(b"tmpfs", os.fsencode(path), b"tmpfs", flags, options)
    _check(result, f"remounting {path} with {options.decode()}")


def _libc() -> ctypes.CDLL:
    """The C library, its calls typed: prctl is variadic, and the kernel reads each of
    its arguments as a whole unsigned long (those it does not use must be 0)."""
    libc = ctypes.CDLL(None, use_errno=True)
    ulong = ctypes.c_ulong
    libc.prctl.argtypes = [ctypes.c_int, ulong, ulong, ulong, ulong]
    libc.mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ulong,
        ctypes.c_char_p,
    ]
    libc.unshare.argtypes = [ctypes.c_int]
    libc.capset.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    for function in (libc.prctl, libc.mount, libc.unshare, libc.capset):
        function.restype = ctypes.c_int
    return libc


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as stream:
        stream.write(text)


def _map_user(libc: ctypes.CDLL, uid: int, gid: int) -> None:
    outer_uid, outer_gid = os.geteuid(), os.getegid()
    _check(libc.unshare(_CLONE_NEWUSER), "entering a nested user namespace")
    # A single line naming our own uid needs no privilege of the parent namespace;
    # for the gids, only once setgroups() is denied.
    _write("/proc/self/uid_map", f"{uid} {outer_uid} 1\n")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/gid_map", f"{gid} {outer_gid} 1\n")


def _drop_capabilities(libc: ctypes.CDLL, user: tuple[int, int] | None) -> None:
    with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as stream:
        last = int(stream.read())
    # The bounding set first: dropping from it takes CAP_SETPCAP, dropped last of all.
    for cap in range(last + 1):
        _check(libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0), f"dropping capability {cap}")
    _check(libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clearing ambient")
    if user is not None:
        uid, gid = user
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(libc.capset(ctypes.addressof(header), ctypes.addressof(data)), "clearing capabilities")
    _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no_new_privs")
    # A change of credentials clears the parent-death signal: set it (again) now.
    _check(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0), "setting pdeathsig")


def _verify(uid: int | None, groups: bool) -> None:
    """Check that no capability is left, no_new_privs is set, the uid is ``uid`` (unless
    ``None``) and, unless ``groups``, there are no supplementary groups."""
    with open("/proc/self/status", encoding="ascii") as stream:
        status = dict(line.split(":", 1) for line in stream.read().splitlines() if ":" in line)
    for field in _CAP_FIELDS:
        if int(status[field].strip(), 16) != 0:
            raise _SetupError(f"{field} is {status[field].strip()} after dropping every capability")
    if status["NoNewPrivs"].strip() != "1":
        raise _SetupError("no_new_privs is not set")
    if uid is not None and os.getresuid() != (uid, uid, uid):
        raise _SetupError(f"the uid is {os.getresuid()}, not {uid}")
    if not groups and os.getgroups():
        raise _SetupError(f"supplementary groups {os.getgroups()} are left")


def _run(argv: list[str]) -> list[str]:
    """Apply the options of ``argv``; the command to exec."""
    if "--" not in argv:
        raise _SetupError("no command after --")
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    if not command:
        raise _SetupError("no command after --")
    libc = _libc()
    owners: list[str] = []
    user: tuple[int, int] | None = None
    mapped: tuple[int, int] | None = None
    for option in options:
        name, _, value = option.partition("=")
        if name == "--cgroup":
            # Best effort: the runner checks the cgroup's members and counts /proc else.
            try:
                with open(value, "w", encoding="ascii") as stream:
                    stream.write("0")
            except OSError:
                pass
        elif name == "--tmpfs":
            size, inodes, path = value.split(",", 2)
            _remount(libc, path, int(size), int(inodes))
        elif name == "--owner":
            owners.append(value)
        elif name in ("--user", "--map-user"):
            uid, _, gid = value.partition(":")
            if name == "--user":
                user = (int(uid), int(gid))
            else:
                mapped = (int(uid), int(gid))
        else:
            raise _SetupError(f"unknown option {option!r}")
    if user is not None:
        for path in owners:
            os.chown(path, *user)
    if mapped is not None:
        _map_user(libc, *mapped)
    _drop_capabilities(libc, user)
    identity = user or mapped
    _verify(None if identity is None else identity[0], groups=user is None)
    return command


def main(argv: list[str]) -> int:
    """Set the sandbox up as ``argv`` says and exec its command; :data:`FAILED` if not."""
    try:
        command = _run(argv)
        os.execv(command[0], command)  # noqa: S606 - the child's own command line
    except (_SetupError, OSError, ValueError, KeyError) as exc:
        sys.stderr.write(f"viksa sandbox: agent code not started: {exc}\n")
    return FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
