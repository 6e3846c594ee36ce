"""What the platform commands share: connection flags, output flags, error messages."""

from __future__ import annotations

import argparse
import sys
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from viksa_ai.devtools._profiles import Connection

__all__ = [
    "CommandError",
    "add_connection_flags",
    "add_input_flags",
    "add_otlp_flag",
    "add_output_flags",
    "add_secret_flags",
    "api_error_message",
    "config_error",
    "connect",
    "connection_of",
    "report_error",
    "setup_otlp",
]


_KIND_OF_EXIT = {2: "usage", 3: "invalid_input"}


class CommandError(Exception):
    """A failure a command reports as one message and an exit code (never a traceback).

    ``kind`` names it in a command's JSON output (``{"error": {"kind", "message"}}``):
    by default ``usage`` for exit code 2, ``invalid_input`` for 3, ``error`` otherwise.
    """

    def __init__(self, message: str, exit_code: int = 1, *, kind: str | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.kind = kind or _KIND_OF_EXIT.get(exit_code, "error")


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    """``--base-url``, ``--api-key``, ``--org-id``, ``--project-id`` and ``--profile``."""
    group = parser.add_argument_group(
        "platform",
        "flags win over VIKSA_BASE_URL, VIKSA_API_KEY (or VIKSA_ACCESS_TOKEN, or "
        "VIKSA_EMAIL + VIKSA_PASSWORD), VIKSA_ORG_ID and VIKSA_PROJECT_ID, which win over "
        "the profile stored by `viksa login` (or written by `viksa dev`)",
    )
    group.add_argument("--base-url", metavar="URL", help="the platform's URL")
    group.add_argument("--api-key", metavar="KEY", help="a project API key")
    group.add_argument("--org-id", metavar="ID", help="the organization")
    group.add_argument("--project-id", metavar="ID", help="the project")
    group.add_argument(
        "--profile",
        metavar="NAME",
        help="a stored profile (default: VIKSA_PROFILE, else 'default', else 'local')",
    )


def add_input_flags(parser: argparse.ArgumentParser) -> None:
    """``--input``/``-i KEY=VALUE`` (repeatable, typed by the input's declaration) and
    ``--payload JSON``."""
    parser.add_argument(
        "--input",
        "-i",
        dest="inputs",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one input, taken as its declared type (repeatable)",
    )
    parser.add_argument("--payload", metavar="JSON", help="all inputs as a JSON object")


def add_secret_flags(parser: argparse.ArgumentParser, *, where: str) -> None:
    """``--secret METHOD.PARAM=VALUE`` (repeatable) and ``--secrets-file FILE``;
    ``where`` says where one auth param goes."""
    parser.add_argument(
        "--secret",
        dest="secrets",
        action="append",
        default=[],
        metavar="METHOD.PARAM=VALUE",
        help=f"{where} (repeatable; never printed)",
    )
    parser.add_argument(
        "--secrets-file", metavar="FILE", help="auth params as JSON or METHOD.PARAM=VALUE lines"
    )


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    """``--format text|json`` and ``--no-color``."""
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default=None,
        help="text: readable, in colour on a terminal; json: one machine-readable document "
        "(default: text on a terminal, json when stdout is a pipe or a file)",
    )
    parser.add_argument(
        "--no-color", action="store_true", help="no colour (also: the NO_COLOR variable)"
    )


def add_otlp_flag(parser: argparse.ArgumentParser, *, what: str) -> None:
    """``--otlp-endpoint URL``: export ``what`` (e.g. "the platform's") spans over OTLP."""
    parser.add_argument(
        "--otlp-endpoint",
        metavar="URL",
        help=(
            f"export {what} trace spans over OTLP/HTTP to URL, e.g. "
            "http://localhost:4318/v1/traces (needs viksa-devtools[otlp])"
        ),
    )


def setup_otlp(args: argparse.Namespace, *, command: str, service_name: str) -> str | None:
    """Start the export ``--otlp-endpoint`` asks for: None, or the line saying why not.

    An empty value is refused (a usage error), not read as "no export": a variable that
    was meant to hold the URL (``--otlp-endpoint "$URL"``) is more likely unset.
    """
    if args.otlp_endpoint is None:
        return None
    if not args.otlp_endpoint.strip():
        return (
            f"{command}: --otlp-endpoint is empty: omit the flag to export no spans, or "
            "give the collector's OTLP/HTTP traces URL, e.g. http://localhost:4318/v1/traces"
        )
    from viksa_ai.devtools._otlp import configure_otlp

    return configure_otlp(args.otlp_endpoint, command=command, service_name=service_name)


def connection_of(args: argparse.Namespace) -> Connection:
    """The connection the flags of ``args`` select (see ``_profiles``); a usage error
    (exit 2) when there is none."""
    from viksa_ai.devtools._profiles import ProfileError, resolve_connection

    try:
        return resolve_connection(
            base_url=args.base_url,
            api_key=args.api_key,
            org_id=args.org_id,
            project_id=args.project_id,
            profile=args.profile,
        )
    except ProfileError as exc:
        raise CommandError(str(exc), 2) from None


def connect(args: argparse.Namespace) -> Any:
    """A ``ViksaSyncClient`` for the connection flags of ``args`` (see ``_profiles``)."""
    connection = connection_of(args)
    # A refused key is then reported with where it came from (a stale profile, say).
    _CREDENTIAL_SOURCE.set(connection.source)
    from viksa_ai.client import ViksaConfigError, ViksaError

    try:
        return connection.client()
    except ViksaConfigError as exc:
        # Settings the user gave (a base URL that is not http(s)): a usage error.
        raise config_error(exc, "--base-url, VIKSA_BASE_URL or the profile") from None
    except ViksaError as exc:
        raise CommandError(api_error_message(exc), kind="platform_error") from None


def config_error(exc: Exception, where: str) -> CommandError:
    """A client's ``ViksaConfigError`` as a usage error; a refused base URL says it came
    from ``where`` (a key or id the client refuses says where to look itself)."""
    text = str(exc)
    if text.startswith("base_url"):
        text += f" (from {where})"
    return CommandError(text, 2)


# Where the credentials of this command came from (see _profiles.Connection.source).
_CREDENTIAL_SOURCE: ContextVar[str | None] = ContextVar("_CREDENTIAL_SOURCE", default=None)

# An error line stays readable: the platform's messages, cut at this many characters.
_MAX_DETAILS = 300


def api_error_message(exc: BaseException) -> str:
    """One readable line for a client error: what failed and, where it helps, what to do."""
    from viksa_ai.client import (
        ViksaApiError,
        ViksaAuthenticationError,
        ViksaTransportError,
    )

    if isinstance(exc, ViksaAuthenticationError):
        return _refused(exc.detail_message, _CREDENTIAL_SOURCE.get())
    if isinstance(exc, ViksaApiError):
        details = "; ".join(
            f"{d.field}: {d.message}" if d.field else d.message for d in exc.details[:10]
        )
        text = " ".join((details or exc.detail_message).split())
        if len(text) > _MAX_DETAILS:
            text = text[: _MAX_DETAILS - 3] + "..."
        if isinstance(exc.body, str) and exc.body.lstrip()[:1] == "<":
            # Some other web server's page (a proxy, a wrong port): not the platform.
            text += " (an HTML page, not the Viksa API: check --base-url)"
        return f"{exc.service} {exc.method} {exc.path} -> {exc.status_code}: {text}"
    if isinstance(exc, ViksaTransportError):
        return f"cannot reach the platform: {exc} (is `viksa dev` running? check --base-url)"
    return str(exc)


def _refused(reason: str, source: str | None) -> str:
    """The line for refused credentials, naming where they came from when it is known."""
    if source == "environment":
        return (
            f"the platform refused the credentials from the environment ({reason}): check "
            "VIKSA_API_KEY (or VIKSA_ACCESS_TOKEN, or VIKSA_EMAIL and VIKSA_PASSWORD)"
        )
    if source == "flags":
        return f"the platform refused the key given by --api-key ({reason}): check it"
    if source and source.startswith("profile "):
        name = source.removeprefix("profile ")
        return (
            f"the platform refused the credentials of profile {name!r} ({reason}): run "
            f"`viksa login --profile {name}` (or `viksa dev --save-profile {name}` for a "
            "local platform), or pass --api-key"
        )
    return (
        f"the platform refused the credentials ({reason}): run `viksa login`, or check "
        "VIKSA_API_KEY / --api-key"
    )


def report_error(command: str, exc: CommandError) -> int:
    """Print ``exc`` as ``viksa COMMAND: message`` on stderr; return its exit code."""
    sys.stdout.flush()
    print(f"viksa {command}: {exc}", file=sys.stderr)
    return exc.exit_code
