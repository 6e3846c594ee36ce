"""``viksa mcp serve DIR``: an agent folder as MCP tools, before it is deployed.

The bridge lives in the viksa-mcp distribution (``viksa-mcp-bridge --path DIR``); it is
imported only when the command runs, and its absence is one line naming the install.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_parser"]

_INSTALL = 'viksa mcp serve needs the MCP bridge: pip install "viksa-ai[mcp]"'


def add_parser(subparsers: Any) -> None:
    """Add the ``mcp`` subcommand (with ``serve``) to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "mcp",
        help="serve an agent folder to MCP clients (Cursor, Claude Desktop)",
        description="Serve agents as MCP tools. Needs: pip install 'viksa-ai[mcp]'.",
    )
    commands = parser.add_subparsers(dest="mcp_command", metavar="COMMAND", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve the agent folder DIR as MCP tools (stdio, or --http)",
        description=(
            "Serve the agent folder DIR as MCP tools through the local runner, reloading "
            "them when the folder changes. Options after DIR go to viksa-mcp-bridge: "
            "--secret METHOD.PARAM=VALUE, --secrets-file FILE, --http [--port N]."
        ),
    )
    serve.add_argument("directory", metavar="DIR", help="the agent folder")
    bridge = serve.add_argument("bridge_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    # Python < 3.12 counts a REMAINDER positional as required: a missing DIR was reported
    # as "required: DIR, bridge_args".
    bridge.required = False
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    try:
        from viksa_ai.mcp_bridge.cli import main
    except ImportError as exc:
        missing = exc.name or ""
        if missing != "mcp" and not missing.startswith(("mcp.", "viksa_ai.mcp_bridge")):
            raise  # the bridge is there; something it imports is broken
        print(_INSTALL, file=sys.stderr)
        return 2
    code: int = main(["--path", args.directory, *args.bridge_args], prog="viksa mcp serve")
    return code
