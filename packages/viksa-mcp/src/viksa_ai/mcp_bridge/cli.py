"""``viksa-mcp-bridge``: Viksa agents as MCP tools, over stdio or Streamable HTTP.

Serves deployed agents (``--agent-id``, ``--agent-alias``, ``--all-deployed``; the
credentials come from ``VIKSA_*`` variables as for ``ViksaClient.from_env()``) or an agent
folder before it is deployed (``--path DIR``). Logs go to stderr: on stdio, stdout is
the protocol.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import anyio

from viksa_ai.mcp_bridge import __version__
from viksa_ai.mcp_bridge._errors import BridgeConfigError, PlatformRefusedError

if TYPE_CHECKING:
    from viksa_ai.client import ViksaClient

    # Imported when the bridge starts: the mcp SDK (and pydantic) take a second or more,
    # which --help, a usage error or Ctrl-C in that second should not wait for.
    from viksa_ai.mcp_bridge._server import Backend, BridgeServer

__all__ = ["Connect", "build_parser", "main"]

Connect = Callable[[], "ViksaClient"]
"""Makes the platform client of ``main(connect=...)``."""

_log = logging.getLogger("viksa_ai.mcp_bridge")
_TRUE = frozenset({"1", "true", "yes", "on"})
# Seconds the first load of the tools may hold the start (see `_serve`).
_FIRST_LOAD_WAIT = 5.0


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise BridgeConfigError(f"{name} must be a number of seconds, got {raw!r}") from None


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is 0-65535")
    return port


def build_parser(prog: str = "viksa-mcp-bridge") -> argparse.ArgumentParser:
    """The command's argument parser."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve Viksa AI agents as MCP tools (Cursor, Claude Desktop, ...).",
        epilog=(
            "environment: VIKSA_AGENT_ID, VIKSA_AGENT_ALIAS, VIKSA_MCP_ALL_DEPLOYED, "
            "VIKSA_MCP_REFRESH_INTERVAL, and the client's VIKSA_API_KEY (or VIKSA_ACCESS_TOKEN, "
            "or VIKSA_EMAIL + VIKSA_PASSWORD), VIKSA_ORG_ID, VIKSA_PROJECT_ID, VIKSA_BASE_URL"
        ),
    )
    target = parser.add_argument_group("what to serve (one of)")
    target.add_argument("--agent-id", help="one deployed agent, by id (VIKSA_AGENT_ID)")
    target.add_argument("--agent-alias", help="one deployed agent, by alias (VIKSA_AGENT_ALIAS)")
    target.add_argument(
        "--all-deployed",
        action="store_true",
        default=None,
        help="every deployed agent of the project (VIKSA_MCP_ALL_DEPLOYED=1)",
    )
    target.add_argument(
        "--path", metavar="DIR", help="an agent folder, run locally before it is deployed"
    )
    parser.add_argument(
        "--refresh-interval",
        type=float,
        metavar="SECONDS",
        help="reload the tools this often (default 60, 0 disables; VIKSA_MCP_REFRESH_INTERVAL)",
    )
    local = parser.add_argument_group("--path options")
    local.add_argument(
        "--secret",
        dest="secrets",
        action="append",
        default=[],
        metavar="METHOD.PARAM=VALUE",
        help="an auth param for the agent (repeatable; visible to other users in ps)",
    )
    local.add_argument(
        "--secrets-file", metavar="FILE", help="auth params as JSON or METHOD.PARAM=VALUE lines"
    )
    transport = parser.add_argument_group("transport (stdio unless --http)")
    transport.add_argument("--http", action="store_true", help="serve Streamable HTTP at /mcp")
    transport.add_argument("--host", default="127.0.0.1", help="HTTP address (default 127.0.0.1)")
    transport.add_argument("--port", type=_port, default=8000, help="HTTP port (default 8000)")
    parser.add_argument("--name", default="viksa", help="the MCP server name (default viksa)")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="what reaches stderr (default INFO)",
    )
    return parser


def _backend(
    args: argparse.Namespace, connect: Connect | None, refused_hint: str | None
) -> tuple[Backend, bool]:
    """The backend the arguments select, and whether it watches a folder."""
    agent_id = args.agent_id or os.environ.get("VIKSA_AGENT_ID") or None
    agent_alias = args.agent_alias or os.environ.get("VIKSA_AGENT_ALIAS") or None
    all_deployed = bool(args.all_deployed) or (
        os.environ.get("VIKSA_MCP_ALL_DEPLOYED", "").strip().lower() in _TRUE
    )
    if args.path:
        if args.agent_id or args.agent_alias or args.all_deployed:
            raise BridgeConfigError("--path serves a folder: leave out --agent-id/--agent-alias")
        from viksa_ai.mcp_bridge._local import LocalBackend, read_secrets

        return LocalBackend(args.path, read_secrets(args.secrets, args.secrets_file)), True
    if args.secrets or args.secrets_file:
        raise BridgeConfigError("--secret and --secrets-file go with --path (a local folder)")
    chosen = [flag for flag in (agent_id, agent_alias, all_deployed) if flag]
    if len(chosen) != 1:
        raise BridgeConfigError(
            "choose one target: --agent-id ID, --agent-alias ALIAS, --all-deployed or --path DIR"
            + (" (several were given)" if chosen else "")
        )
    from viksa_ai.client import ViksaClient, ViksaConfigError
    from viksa_ai.mcp_bridge._platform import AgentSelection, PlatformBackend

    try:
        client = ViksaClient.from_env() if connect is None else connect()
    except ViksaConfigError as exc:
        raise BridgeConfigError(str(exc)) from None
    selection = AgentSelection(agent_id, agent_alias, all_deployed)
    return PlatformBackend(client, selection, refused_hint=refused_hint), False


async def _serve(bridge: BridgeServer, args: argparse.Namespace) -> None:
    """Load the tools, serve, and close the backend; a refusal of the credentials ends it.

    The first load is waited for :data:`_FIRST_LOAD_WAIT` seconds at most: a client
    (Claude Desktop, the MCP Inspector) gives up on a server that does not answer its
    ``initialize`` soon, and a slow platform can take the client's whole timeout. Past
    that, the server answers with no tools and announces them once the load ends.
    """
    # The error that ends the bridge, raised once the task group is left: raised inside
    # it, anyio would wrap it in an exception group, and `main` would print a traceback.
    fatal: list[BridgeConfigError] = []
    try:
        async with anyio.create_task_group() as group:
            loaded = anyio.Event()

            async def first_load() -> None:
                try:
                    # Refused credentials end the bridge with one line; a platform that
                    # is down or slow does not: the tools load at a later refresh.
                    await bridge.refresh(strict=True)
                except PlatformRefusedError as exc:
                    fatal.append(exc)
                    group.cancel_scope.cancel()
                finally:
                    loaded.set()

            group.start_soon(first_load)
            with anyio.move_on_after(_FIRST_LOAD_WAIT):
                await loaded.wait()
            if fatal:
                return
            if loaded.is_set():
                count = len(bridge.registry.tools)
                _log.info("serving %s: %d tool(s)", bridge.backend.describe(), count)
            else:
                _log.warning(
                    "the tools of %s did not load within %g s: serving none until they do",
                    bridge.backend.describe(),
                    _FIRST_LOAD_WAIT,
                )
            try:
                if args.http:
                    await bridge.serve_http(args.host, args.port)  # a port in use raises
                else:
                    await bridge.serve_stdio()
            except BridgeConfigError as exc:
                fatal.append(exc)
            group.cancel_scope.cancel()  # the client is gone: a first load still running ends
    finally:
        with anyio.CancelScope(shield=True):
            await bridge.backend.close()
    if fatal:
        raise fatal[0]


def main(
    argv: Sequence[str] | None = None,
    *,
    prog: str = "viksa-mcp-bridge",
    connect: Connect | None = None,
    refused_hint: str | None = None,
) -> int:
    """Entry point of ``viksa-mcp-bridge``; returns the exit code.

    For deployed agents, ``connect`` makes the platform client in place of
    ``ViksaClient.from_env()`` (called once the arguments are checked; it may raise
    :class:`BridgeConfigError`, printed as one line, exit 2), and ``refused_hint`` says
    what to do when the platform refuses its credentials: how ``viksa mcp serve`` serves
    with the credentials of a ``viksa login`` profile.
    """
    args = build_parser(prog).parse_args(argv)
    try:
        return _start(args, prog, connect, refused_hint)
    except KeyboardInterrupt:
        # Ctrl-C, while the bridge starts too: no traceback, and the shell's 128 + SIGINT,
        # as `viksa` answers it (a script can tell an interrupted bridge from a finished one).
        return 130


def _start(
    args: argparse.Namespace, prog: str, connect: Connect | None, refused_hint: str | None
) -> int:
    try:
        interval = args.refresh_interval
        if interval is None:
            interval = _env_float("VIKSA_MCP_REFRESH_INTERVAL", 60.0)
        if not interval >= 0:  # NaN too: the refresh loop cannot sleep NaN seconds
            raise BridgeConfigError(f"--refresh-interval must be 0 or more, got {interval:g}")
        backend, watches = _backend(args, connect, refused_hint)
    except BridgeConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    from viksa_ai.mcp_bridge._server import BridgeServer

    # stdout is the protocol on stdio: every log line goes to stderr.
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    watch = getattr(backend, "changed", None) if watches else None
    bridge = BridgeServer(
        backend, name=args.name, version=__version__, refresh_interval=interval, watch=watch
    )
    try:
        anyio.run(_serve, bridge, args)
    except BridgeConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
