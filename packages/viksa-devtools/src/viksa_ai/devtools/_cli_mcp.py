"""``viksa mcp serve``: agents as MCP tools, a folder before it is deployed or deployed ones.

The bridge lives in the viksa-mcp distribution (``viksa-mcp-bridge``); it is imported
only when the command runs, and its absence is one line naming the install. Deployed
agents are served with the credentials ``viksa call`` uses (flags, then ``VIKSA_*``
variables, then a profile), which ``viksa-mcp-bridge`` alone does not read.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from viksa_ai.devtools._cli_common import (
    CommandError,
    add_connection_flags,
    add_secret_flags,
    connection_of,
    report_error,
)

__all__ = ["add_parser"]

_INSTALL = 'viksa mcp serve needs the MCP bridge: pip install "viksa-ai[mcp]"'

_DESCRIPTION = """\
Serve the agent folder DIR as MCP tools through the local runner (reloaded when the
folder changes), or deployed agents with the credentials `viksa call` uses: flags, then
VIKSA_* variables, then a profile (--profile, else VIKSA_PROFILE, else 'default', else
the 'local' one `viksa dev --save-profile` writes). Logs go to stderr; on stdio, stdout
is the protocol. Ctrl-C exits 130.
"""

_EPILOG = """\
examples:
  viksa mcp serve my_agent --secrets-file .secrets   a folder, reloaded on every save
  viksa mcp serve --agent-alias my_agent             a deployed agent (profile 'local'
                                                     after `viksa dev --save-profile`)
  viksa mcp serve --all-deployed --profile staging --http --port 8000

an MCP client's config (Claude Desktop wants the full path: `which viksa`):
  {"mcpServers": {"viksa": {"command": "viksa",
     "args": ["mcp", "serve", "--agent-alias", "my_agent"]}}}
"""

# The bridge's own options, passed on as given: (flag, takes a value).
_BRIDGE_OPTIONS = (
    ("--refresh-interval", True),
    ("--http", False),
    ("--host", True),
    ("--port", True),
    ("--name", True),
    ("--log-level", True),
)


def add_parser(subparsers: Any) -> None:
    """Add the ``mcp`` subcommand (with ``serve``) to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "mcp",
        help="serve agents to MCP clients (Cursor, Claude Desktop)",
        description="Serve agents as MCP tools. Needs: pip install 'viksa-ai[mcp]'.",
    )
    commands = parser.add_subparsers(dest="mcp_command", metavar="COMMAND", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve an agent folder, or deployed agents, as MCP tools (stdio, or --http)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = serve.add_argument_group("what to serve (one of)")
    choice = target.add_mutually_exclusive_group(required=True)
    choice.add_argument("directory", metavar="DIR", nargs="?", help="an agent folder")
    choice.add_argument("--agent-id", metavar="ID", help="one deployed agent, by id")
    choice.add_argument("--agent-alias", metavar="ALIAS", help="one deployed agent, by alias")
    choice.add_argument(
        "--all-deployed", action="store_true", help="every deployed agent of the project"
    )
    add_secret_flags(serve, where="with DIR: an auth param for the agent")
    bridge = serve.add_argument_group("serving")
    bridge.add_argument(
        "--refresh-interval",
        metavar="SECONDS",
        help="reload the tools this often (default 60, 0 disables)",
    )
    bridge.add_argument("--http", action="store_true", help="serve Streamable HTTP at /mcp")
    bridge.add_argument("--host", help="HTTP address (default 127.0.0.1)")
    bridge.add_argument("--port", help="HTTP port (default 8000)")
    bridge.add_argument("--name", help="the MCP server name (default viksa)")
    bridge.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="what reaches stderr (default INFO)",
    )
    add_connection_flags(serve)
    serve.set_defaults(handler=_serve)


def _bridge_argv(args: argparse.Namespace) -> list[str]:
    """The ``viksa-mcp-bridge`` arguments for ``args``."""
    if args.directory is not None:
        argv = ["--path", args.directory]
    elif args.agent_id is not None:
        argv = ["--agent-id", args.agent_id]
    elif args.agent_alias is not None:
        argv = ["--agent-alias", args.agent_alias]
    else:
        argv = ["--all-deployed"]
    for secret in args.secrets:
        argv += ["--secret", secret]
    if args.secrets_file is not None:
        argv += ["--secrets-file", args.secrets_file]
    for flag, takes_value in _BRIDGE_OPTIONS:
        value = getattr(args, flag[2:].replace("-", "_"))
        if takes_value and value is not None:
            argv += [flag, value]
        elif not takes_value and value:
            argv.append(flag)
    return argv


def _refused_hint(source: str) -> str:
    """What to do when the platform refuses the credentials of ``source``."""
    if source.startswith("profile "):
        name = source.removeprefix("profile ")
        return (
            f"they come from profile {name!r}: run `viksa login --profile {name}` (or "
            f"`viksa dev --save-profile {name}` for a local platform), or pass --api-key"
        )
    if source == "flags":
        return "check the key given by --api-key"
    return "check VIKSA_API_KEY (or VIKSA_ACCESS_TOKEN, or VIKSA_EMAIL and VIKSA_PASSWORD)"


def _serve(args: argparse.Namespace) -> int:
    try:
        from viksa_ai.mcp_bridge import BridgeConfigError
        from viksa_ai.mcp_bridge.cli import main
    except ImportError as exc:
        missing = exc.name or ""
        if missing != "mcp" and not missing.startswith(("mcp.", "viksa_ai.mcp_bridge")):
            raise  # the bridge is there; something it imports is broken
        print(_INSTALL, file=sys.stderr)
        return 2
    platform_flags = (args.base_url, args.api_key, args.org_id, args.project_id, args.profile)
    if args.directory is not None:
        if any(flag is not None for flag in platform_flags):
            error = CommandError(
                "DIR runs locally: --profile and the platform flags go with --agent-id, "
                "--agent-alias or --all-deployed",
                2,
            )
            return report_error("mcp serve", error)
        code: int = main(_bridge_argv(args), prog="viksa mcp serve")
        return code
    try:
        connection = connection_of(args)
    except CommandError as exc:
        return report_error("mcp serve", exc)

    def connect() -> Any:
        from viksa_ai.client import ViksaConfigError, ViksaError
        from viksa_ai.devtools._cli_common import api_error_message

        try:
            return connection.async_client()
        except ViksaConfigError:
            raise  # the bridge prints it as a usage error
        except ViksaError as exc:  # a login with VIKSA_EMAIL + VIKSA_PASSWORD refused
            raise BridgeConfigError(api_error_message(exc)) from None

    return main(
        _bridge_argv(args),
        prog="viksa mcp serve",
        connect=connect,
        refused_hint=_refused_hint(connection.source),
    )
