"""Where ``viksa deploy`` and ``viksa call`` find their platform and credentials.

Each setting comes from, in order: a command-line flag, a ``VIKSA_*`` environment
variable, then a profile that ``viksa login`` (or ``viksa dev``) stored in the user's
config directory (``credentials.json``, mode 0600). The credential is taken whole from
the first of those places that has one, so a key is never mixed with another's token.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CREDENTIALS_FILE",
    "Connection",
    "ProfileError",
    "config_dir",
    "delete_profile",
    "load_profiles",
    "resolve_connection",
    "save_profile",
]

CREDENTIALS_FILE = "credentials.json"
_MAX_FILE_BYTES = 1024 * 1024  # profiles are a few hundred bytes each
_FIELDS = (
    "base_url",
    "api_key",
    "api_key_id",
    "access_token",
    "refresh_token",
    "org_id",
    "project_id",
)


class ProfileError(Exception):
    """No usable credentials, or a profile file that cannot be read or written."""


@dataclass(frozen=True)
class Connection:
    """The platform to talk to and the credential to use (never shown in a repr)."""

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    email: str | None = None
    password: str | None = field(default=None, repr=False)
    org_id: str | None = None
    project_id: str | None = None
    source: str = ""
    """Where the credential came from: ``flags``, ``environment`` or ``profile NAME``."""

    def client(self) -> Any:
        """A ``ViksaSyncClient`` for this connection (logs in when it holds a password)."""
        from viksa_ai.client import ViksaSyncClient

        if self.email is not None and self.password is not None:
            return ViksaSyncClient.from_login(self.email, self.password, **self._place())
        return ViksaSyncClient(self.access_token, **self._credential(), **self._place())

    def async_client(self) -> Any:
        """A ``ViksaClient`` (async) for this connection; a password logs in now, blocking."""
        from viksa_ai.client import ViksaClient

        if self.email is not None and self.password is not None:
            return ViksaClient.from_login_sync(self.email, self.password, **self._place())
        return ViksaClient(self.access_token, **self._credential(), **self._place())

    def _credential(self) -> dict[str, Any]:
        refresh = self.refresh_token if self.access_token else None
        return {"api_key": self.api_key, "refresh_token": refresh}

    def _place(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "org_id": self.org_id, "project_id": self.project_id}


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The viksa config directory: ``VIKSA_CONFIG_DIR``, else the platform's usual place.

    ``$XDG_CONFIG_HOME/viksa`` (default ``~/.config/viksa``) on Linux and macOS,
    ``%APPDATA%\\viksa`` on Windows.
    """
    env = os.environ if environ is None else environ
    if env.get("VIKSA_CONFIG_DIR"):
        return Path(env["VIKSA_CONFIG_DIR"])
    if sys.platform == "win32" and env.get("APPDATA"):
        return Path(env["APPDATA"]) / "viksa"
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "viksa"


def _file(environ: Mapping[str, str] | None) -> Path:
    return config_dir(environ) / CREDENTIALS_FILE


def load_profiles(environ: Mapping[str, str] | None = None) -> dict[str, dict[str, str]]:
    """Every stored profile by name ({} when there is no credentials file)."""
    from viksa_ai.devtools.validate._agent_source import read_at_most

    path = _file(environ)
    try:
        # Opening a FIFO would block every deploy and call; a device never ends.
        if not stat.S_ISREG(path.stat().st_mode):
            raise ProfileError(f"{path} is not a regular file: delete it and run `viksa login`")
        with path.open("rb") as stream:
            raw = read_at_most(stream, _MAX_FILE_BYTES)
        if raw is None:
            raise ProfileError(f"{path} is larger than 1 MiB: delete it and run `viksa login`")
        text = raw.decode("utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read {path}: {exc}; fix or delete it") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise ProfileError(
            f"{path} is not valid JSON: delete it and run `viksa login` again"
        ) from None
    profiles = data.get("profiles") if isinstance(data, dict) else None
    if not isinstance(profiles, dict):
        raise ProfileError(f"{path} holds no profiles: delete it and run `viksa login` again")
    return {
        str(name): {k: str(v) for k, v in values.items() if k in _FIELDS and v}
        for name, values in profiles.items()
        if isinstance(values, dict)
    }


def save_profile(
    name: str, values: Mapping[str, str | None], environ: Mapping[str, str] | None = None
) -> Path:
    """Store profile ``name`` (replacing it); the file is readable by its owner only."""
    with _locked(environ):
        profiles = load_profiles(environ)
        profiles[name] = {k: v for k, v in values.items() if k in _FIELDS and v}
        return _write(profiles, environ)


def delete_profile(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Remove profile ``name``; False when there was none."""
    with _locked(environ):
        profiles = load_profiles(environ)
        if profiles.pop(name, None) is None:
            return False
        _write(profiles, environ)
        return True


def _make_folder(folder: Path) -> None:
    """Create ``folder`` (owner-only) and its missing parents, none writable by others.

    ``Path.mkdir(parents=True)`` makes the parents ``0777`` less the umask: under umask
    000 another user could swap the config folder for theirs, with their base URL.
    """
    missing: list[Path] = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        # The umask only removes bits: 0755 at most for a parent, 0700 for the folder.
        made.mkdir(mode=0o700 if made is missing[0] else 0o755, exist_ok=True)


@contextmanager
def _locked(environ: Mapping[str, str] | None) -> Iterator[None]:
    """Hold the config dir's lock: two logins at once each keep their profile."""
    path = _file(environ)
    lock = path.with_name(f".{path.name}.lock")
    try:
        _make_folder(path.parent)
        # O_NOFOLLOW: a symlink planted at the lock's name creates no file elsewhere.
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(lock, flags, 0o600)
    except OSError as exc:
        raise ProfileError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        if fcntl is not None:  # Windows: no lock (a login there is one process at a time)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _write(profiles: dict[str, dict[str, str]], environ: Mapping[str, str] | None) -> Path:
    path = _file(environ)
    text = json.dumps({"profiles": profiles}, indent=2, sort_keys=True) + "\n"
    temporary: Path | None = None
    try:
        _make_folder(path.parent)
        # mkstemp: an unpredictable name, created exclusively and 0600 whatever the umask,
        # so a symlink planted in a config dir others can write to is never written
        # through, and the secret is never readable by others, even briefly.
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        temporary = Path(name)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise ProfileError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _warn_if_exposed(path: Path) -> None:
    # The key is still used (as ssh-agent-less tools do), but the user must know it leaked
    # to every account on the machine; `viksa login` writes it back owner-only.
    if sys.platform == "win32":
        return
    try:
        status = path.stat()
        folder = path.parent.stat()
    except OSError:
        return
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077:
        _warn(
            f"{path} is readable by other users (mode {mode:04o}): it holds your "
            f"credentials; run `chmod 600 {path}`"
        )
    # Whoever can replace the file chooses the platform your deploys and secrets go to.
    if status.st_uid != os.getuid():
        _warn(
            f"{path} belongs to another user (uid {status.st_uid}), who chooses where "
            "your deploys go: delete it and run `viksa login`"
        )
    folder_mode = stat.S_IMODE(folder.st_mode)
    if folder_mode & 0o022 and not folder_mode & stat.S_ISVTX:
        _warn(
            f"{path.parent} is writable by other users (mode {folder_mode:04o}): they can "
            f"replace your credentials, and choose where your deploys go; run "
            f"`chmod 700 {path.parent}`"
        )


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=4)


def _env_credential(env: Mapping[str, str]) -> dict[str, str] | None:
    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    if get("VIKSA_API_KEY"):
        return {"api_key": get("VIKSA_API_KEY") or ""}
    if get("VIKSA_ACCESS_TOKEN"):
        found = {"access_token": get("VIKSA_ACCESS_TOKEN") or ""}
        refresh = get("VIKSA_REFRESH_TOKEN")
        return {**found, "refresh_token": refresh} if refresh else found
    email, password = get("VIKSA_EMAIL"), get("VIKSA_PASSWORD")
    if email and password:
        return {"email": email, "password": password}
    if email or password:
        missing = "VIKSA_PASSWORD" if email else "VIKSA_EMAIL"
        raise ProfileError(f"{missing} is not set: VIKSA_EMAIL and VIKSA_PASSWORD go together")
    return None


def _chosen_profile(
    requested: str | None, env: Mapping[str, str]
) -> tuple[str, dict[str, str]] | None:
    name = requested or env.get("VIKSA_PROFILE", "").strip() or None
    profiles = load_profiles(env)
    if name is not None:
        if name not in profiles:
            known = ", ".join(sorted(profiles)) or "none yet"
            raise ProfileError(
                f"no profile {name!r} (profiles: {known}): run `viksa login --profile {name}`"
            )
        return name, profiles[name]
    for fallback in ("default", "local"):
        if fallback in profiles:
            return fallback, profiles[fallback]
    return None


def resolve_connection(
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    org_id: str | None = None,
    project_id: str | None = None,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Connection:
    """The connection for a command: flags, then ``VIKSA_*`` variables, then a profile.

    ``profile`` (or ``VIKSA_PROFILE``) names the profile; without one, ``default`` (what
    ``viksa login`` writes) and then ``local`` (what ``viksa dev`` writes) are tried.
    Raises :class:`ProfileError` saying how to log in when no credential is found.
    """
    env = os.environ if environ is None else environ
    chosen = _chosen_profile(profile, env)
    stored = chosen[1] if chosen else {}
    credential: dict[str, str] | None
    if api_key:
        credential, source = {"api_key": api_key}, "flags"
    elif (credential := _env_credential(env)) is not None:
        source = "environment"
    elif chosen is not None and (stored.get("api_key") or stored.get("access_token")):
        _warn_if_exposed(_file(env))
        keys = ("api_key", "access_token", "refresh_token")
        credential = {k: stored[k] for k in keys if k in stored}
        source = f"profile {chosen[0]}"
    else:
        raise ProfileError(
            "no Viksa credentials: run `viksa login` (or start `viksa dev --save-profile`, "
            "which saves a local profile), set VIKSA_API_KEY, or pass --api-key"
        )

    def pick(flag: str | None, variable: str, key: str) -> str | None:
        return flag or env.get(variable, "").strip() or stored.get(key) or None

    return Connection(
        base_url=pick(base_url, "VIKSA_BASE_URL", "base_url"),
        org_id=pick(org_id, "VIKSA_ORG_ID", "org_id"),
        project_id=pick(project_id, "VIKSA_PROJECT_ID", "project_id"),
        source=source,
        **credential,
    )
