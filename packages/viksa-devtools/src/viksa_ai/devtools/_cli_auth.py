"""``viksa login`` and ``viksa logout``: a stored profile for ``deploy`` and ``call``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from viksa_ai.devtools._cli_common import (
    CommandError,
    api_error_message,
    config_error,
    report_error,
)

__all__ = ["add_parsers", "login_command", "logout_command"]

_LOGIN_DESCRIPTION = """\
Check credentials against a Viksa platform and store them as a profile in your config
directory (credentials.json, readable by you only), so that `viksa deploy` and `viksa
call` need no flags or VIKSA_* variables. With an API key, the key is stored. With
email and password, a project API key named after this machine is created and stored
(never the password); `viksa logout` revokes it.

Exit status: 0 the profile is stored, 1 the platform refused the credentials or could
not be reached, 2 usage error (a bad flag or base URL, an empty key or password).
"""

_LOGIN_EPILOG = """\
examples:
  viksa login --api-key vk_...                       # the hosted platform
  viksa login --base-url http://127.0.0.1:8765 --email dev@example.com
  viksa login --profile staging --base-url https://staging.example.com --api-key -
"""


def add_parsers(subparsers: Any) -> None:
    """Add the ``login`` and ``logout`` subcommands to ``subparsers``."""
    login: argparse.ArgumentParser = subparsers.add_parser(
        "login",
        help="store credentials for deploy and call in a profile",
        description=_LOGIN_DESCRIPTION,
        epilog=_LOGIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    login.add_argument(
        "--base-url", metavar="URL", help="the platform (default: VIKSA_BASE_URL or hosted)"
    )
    how = login.add_mutually_exclusive_group()
    how.add_argument("--api-key", metavar="KEY", help="a project API key (- reads it from stdin)")
    how.add_argument("--email", help="log in with email and password")
    login.add_argument(
        "--password", help="the password (default: asked for, or read from stdin when piped)"
    )
    login.add_argument("--org-id", metavar="ID", help="the organization (default: the key's)")
    login.add_argument("--project-id", metavar="ID", help="the project (default: the key's)")
    login.add_argument(
        "--profile", metavar="NAME", help="the profile (default: VIKSA_PROFILE, else default)"
    )
    login.set_defaults(handler=login_command)

    logout: argparse.ArgumentParser = subparsers.add_parser(
        "logout",
        help="remove a stored profile (and revoke the key login created)",
        description="Remove a profile stored by `viksa login`; a key that login created "
        "is revoked on the platform first (when it can be reached).",
    )
    logout.add_argument(
        "--profile", metavar="NAME", help="the profile (default: VIKSA_PROFILE, else default)"
    )
    logout.set_defaults(handler=logout_command)


def login_command(args: argparse.Namespace) -> int:
    """Handle ``viksa login``; returns the exit code."""
    from viksa_ai.client import DEFAULT_BASE_URL, ViksaConfigError, ViksaError
    from viksa_ai.devtools._profiles import ProfileError, config_dir, save_profile

    base_url = args.base_url or os.environ.get("VIKSA_BASE_URL") or DEFAULT_BASE_URL
    # As deploy, call and logout read it.
    profile = _profile_name(args)
    try:
        if not profile.strip():
            raise CommandError("--profile must not be empty", 2)
        if args.email is not None:
            values = _login_with_password(args, base_url, _password(args))
        else:
            values = _login_with_key(args, base_url, _api_key(args))
        save_profile(profile, values)
    except CommandError as exc:
        return report_error("login", exc)
    except ViksaConfigError as exc:  # a base URL that is not http(s)
        return report_error("login", config_error(exc, "--base-url or VIKSA_BASE_URL"))
    except ViksaError as exc:
        return report_error("login", CommandError(api_error_message(exc)))
    except ProfileError as exc:
        return report_error("login", CommandError(str(exc), 2))
    tenant = f"org {values.get('org_id') or '-'}, project {values.get('project_id') or '-'}"
    print(f"Logged in to {base_url} ({tenant})")
    print(f"Profile {profile!r} saved in {config_dir()}")
    return 0


def _profile_name(args: argparse.Namespace) -> str:
    """``--profile``, else ``VIKSA_PROFILE``, else ``default`` (an empty flag stays empty)."""
    if args.profile is not None:
        return str(args.profile)
    return os.environ.get("VIKSA_PROFILE", "").strip() or "default"


def _api_key(args: argparse.Namespace) -> str:
    if args.api_key == "-":
        key = sys.stdin.readline().strip()
    elif args.api_key is not None:
        key = args.api_key.strip()
    elif sys.stdin.isatty():
        import getpass

        key = getpass.getpass("API key: ").strip()
    else:
        raise CommandError("pass --api-key KEY (or - to read it from stdin) or --email EMAIL", 2)
    if not key:
        raise CommandError("the API key is empty", 2)
    return key


def _password(args: argparse.Namespace) -> str:
    if args.password is not None:
        password: str = args.password
    elif sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"Password for {args.email}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("the password is empty", 2)
    return password


def _login_with_key(args: argparse.Namespace, base_url: str, key: str) -> dict[str, str | None]:
    from viksa_ai.client import ViksaSyncClient

    with ViksaSyncClient.from_api_key(
        key, validate=True, base_url=base_url, org_id=args.org_id, project_id=args.project_id
    ) as client:
        return {
            "base_url": base_url,
            "api_key": key,
            "org_id": client.org_id,
            "project_id": client.project_id,
        }


def _login_with_password(
    args: argparse.Namespace, base_url: str, password: str
) -> dict[str, str | None]:
    import socket

    from viksa_ai.client import ViksaSyncClient

    with ViksaSyncClient.from_login(
        args.email, password, base_url=base_url, org_id=args.org_id, project_id=args.project_id
    ) as client:
        if args.project_id:
            client.auth.switch_project(args.project_id)
        created = client.auth.create_api_key(
            f"viksa CLI on {socket.gethostname()}", description="created by `viksa login`"
        )
        key = created.get("key") or created.get("api_key")
        if not isinstance(key, str):
            raise CommandError("the platform created an API key but did not answer its value")
        return {
            "base_url": base_url,
            "api_key": key,
            "api_key_id": str(created.get("id") or ""),
            "org_id": client.org_id,
            "project_id": client.project_id,
        }


def logout_command(args: argparse.Namespace) -> int:
    """Handle ``viksa logout``; returns the exit code."""
    from viksa_ai.devtools._profiles import (
        ProfileError,
        config_dir,
        delete_profile,
        load_profiles,
    )

    name = _profile_name(args)
    try:
        stored = load_profiles().get(name)
        if stored is None:
            print(f"No profile {name!r} in {config_dir()}: nothing to do")
            return 0
        warning = _revoke(stored)
        delete_profile(name)
    except ProfileError as exc:
        return report_error("logout", CommandError(str(exc), 2))
    if warning:
        print(f"viksa logout: {warning}", file=sys.stderr)
    print(f"Logged out: profile {name!r} removed from {config_dir()}")
    return 0


def _revoke(stored: dict[str, str]) -> str | None:
    """Revoke the key ``viksa login`` created; a warning when that fails, else None."""
    if not stored.get("api_key_id") or not stored.get("api_key"):
        return None
    from viksa_ai.client import ViksaError, ViksaSyncClient

    try:
        with ViksaSyncClient(
            api_key=stored["api_key"],
            base_url=stored.get("base_url"),
            org_id=stored.get("org_id"),
            project_id=stored.get("project_id"),
            timeout=10,
        ) as client:
            client.auth.revoke_api_key(stored["api_key_id"])
    except ViksaError as exc:
        return f"could not revoke the API key login created ({api_error_message(exc)})"
    return None
