"""Serving the platform on 127.0.0.1 with uvicorn, and the start banner."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import sqlite3
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote_plus

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from viksa_ai.devtools.platform._config import PlatformConfig
from viksa_ai.devtools.platform._examples import deploy_examples
from viksa_ai.devtools.platform._platform import Platform, SeededCredentials
from viksa_ai.devtools.platform.http._answers import send_json
from viksa_ai.devtools.platform.http._app import create_app
from viksa_ai.devtools.platform.http._dashboard import SIGN_IN_PATH
from viksa_ai.devtools.platform.http._fault_admin import FAULT_TOKEN_HEADER
from viksa_ai.devtools.platform.http._faults import DroppedConnection
from viksa_ai.devtools.platform.http._headers import first_headers, route_path
from viksa_ai.devtools.platform.http._security_headers import security_headers
from viksa_ai.devtools.platform.http._slow_clients import (
    HEADER_TIMEOUT_SECONDS,
    guarded_protocol,
    uvicorn_protocol,
)
from viksa_ai.devtools.platform.store._at_rest import KeyFileError
from viksa_ai.devtools.runner import sandbox_status

__all__ = [
    "HOST",
    "SHUTDOWN_GRACE_SECONDS",
    "banner",
    "configure_logging",
    "guard_hosts",
    "redact_query",
    "serve",
]

HOST = "127.0.0.1"
# How long a stop (Ctrl-C, SIGTERM) waits for requests still running before it cancels
# them, which kills their agents' workers; the platform then stops every other worker.
SHUTDOWN_GRACE_SECONDS = 3
# Query parameters whose values are credentials (get_secret's passphrase travels in the
# query string, as the wire contract says): the access log shows *** instead. A name is
# matched as the app reads it, percent-decoded (``%74oken`` is ``token``).
_SECRET_NAME = re.compile(
    r"passphrase|password|api_key|key|secret|token|[a-z_]*_token", re.IGNORECASE
)


class _QuietDrops(logging.Filter):
    """Drop uvicorn's tracebacks for what is done on purpose.

    A connection cut by a fault, and a request cancelled because the platform stops
    (uvicorn says how many it cancelled in a line of its own).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.exc_info
            and isinstance(record.exc_info[1], (DroppedConnection, asyncio.CancelledError))
        )


class _RedactQuery(logging.Filter):
    """Replace credential values in the query string of uvicorn's access log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn logs (client, method, path with query, http version, status).
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            if isinstance(args[2], str):
                args[2] = redact_query(args[2])
                record.args = tuple(args)
        return True


# The names a browser uses for this machine; a DNS rebinding page sends its own name.
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
_SHOWN_HOST_CHARS = 100


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(value: str) -> str:
    """The name part of a Host header, lower case, without port or trailing dot.

    Only a port (digits) may follow the name: ``[::1]:8765.evil`` keeps its tail and so
    matches no allowed name. An IPv6 literal takes no trailing dot (``[::1].`` is not
    ``[::1]``); a DNS name may end with one (``localhost.``).
    """
    value = value.strip().lower()
    if value.startswith("["):  # an IPv6 literal keeps its brackets: [::1]:8765
        end = value.find("]")
        tail = value[end + 1 :] if end != -1 else "x"
        return value[: end + 1] if _is_port_part(tail) else value
    name, sep, port = value.rpartition(":")
    if not sep or ":" in name or not _is_port_part(sep + port):
        name = value
    return name.rstrip(".")


def _is_port_part(tail: str) -> bool:
    """Whether ``tail`` is nothing or ``:`` and ASCII digits (an empty port is allowed)."""
    return tail == "" or (tail[0] == ":" and all(c in "0123456789" for c in tail[1:]))


class _HostGuard:
    """Refuse requests whose ``Host`` names another machine (DNS rebinding).

    A web page whose name is made to resolve to 127.0.0.1 could otherwise log in with
    the well-known dev user and read vault values; its requests carry its own name.
    """

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = first_headers(scope).get(b"host", b"").decode("latin-1")
        name = _host_name(raw)
        if name in self.allowed:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        shown = name[:_SHOWN_HOST_CHARS]
        message = (
            f"Host {shown!r} is not allowed: viksa dev on a loopback address answers only "
            f"{', '.join(sorted(self.allowed))} (a guard against DNS rebinding). "
            f"Start it with --allow-host {shown or 'NAME'} to admit that name."
        )
        body = {"detail": {"message": message, "code": "host_not_allowed"}}
        await send_json(send, 400, body, security_headers(route_path(scope)))


def guard_hosts(app: ASGIApp, bound_host: str, allow_hosts: Iterable[str] = ()) -> ASGIApp:
    """``app`` refusing foreign ``Host`` headers (400) when bound to a loopback address.

    Admitted: localhost, 127.0.0.1, [::1], ``bound_host`` and ``allow_hosts``, on any
    port. Bound elsewhere, ``app`` is returned as is: it was meant to be reached by name.
    """
    if not _is_loopback(bound_host):
        return app
    bound = f"[{bound_host}]" if ":" in bound_host else bound_host
    # An allowed name that reduces to nothing (":80", ".") would admit requests without Host.
    names = {*_LOOPBACK_NAMES, bound, *filter(None, (_host_name(h) for h in allow_hosts))}
    return _HostGuard(app, frozenset(names))


def redact_query(path: str) -> str:
    """``path`` with the values of credential query parameters replaced by ``***``."""
    where, mark, query = path.partition("?")
    if not mark:
        return path
    fields = []
    for field in query.split("&"):
        name, equals, _ = field.partition("=")
        secret = equals and _SECRET_NAME.fullmatch(unquote_plus(name).strip())
        fields.append(f"{name}=***" if secret else field)
    return f"{where}?{'&'.join(fields)}"


def configure_logging() -> None:
    """Install the platform's filters on uvicorn's loggers (idempotent)."""
    for name, kind in (("uvicorn.error", _QuietDrops), ("uvicorn.access", _RedactQuery)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())


def _uvicorn_config(
    app: ASGIApp,
    *,
    log_level: str,
    access_log: bool,
    header_timeout: float = HEADER_TIMEOUT_SECONDS,
    max_connections: int | None = None,
) -> uvicorn.Config:
    """uvicorn's settings; with ``access_log`` the request lines show at any ``log_level``.

    Slow clients are cut off (``header_timeout``, ``max_connections``: see ``_slow_clients``).
    """
    protocol = guarded_protocol(
        uvicorn_protocol(), header_timeout=header_timeout, max_connections=max_connections
    )
    config = uvicorn.Config(
        app,
        http=protocol,
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    if access_log:
        # uvicorn gives its access logger the --log-level (default warning), which would
        # hide every request line that --access-log asks for: they are logged at INFO.
        access = logging.getLogger("uvicorn.access")
        access.setLevel(min(access.getEffectiveLevel(), logging.INFO))
    return config


def banner(
    base_url: str,
    credentials: SeededCredentials,
    data: Path | None,
    examples: list[tuple[str, str]],
    sandbox: str | None = None,
    *,
    fault_token: str | None = None,
    sign_in_token: str | None = None,
) -> str:
    """What ``viksa dev`` prints on every start: where, who, and the export lines.

    ``sandbox`` is the runner's ``sandbox_status`` line (whether agents are isolated).
    ``fault_token`` (the platform's, new at each start) arms ``/_dev/faults`` as the
    dev user's credentials do. With ``sign_in_token`` a line starting with ``dashboard``
    gives the dashboard's one-time sign-in link.
    """
    lines = [
        f"Viksa local platform: {base_url}  (API docs: {base_url}/docs)",
        *(
            [f"dashboard {base_url}{SIGN_IN_PATH}?token={sign_in_token}  (one-time link)"]
            if sign_in_token
            else []
        ),
        f"  data      {data if data is not None else 'in memory (lost on exit)'}",
        *([f"  sandbox   {sandbox}"] if sandbox is not None else []),
        f"  email     {credentials.email}",
        f"  password  {credentials.password}",
        f"  api key   {credentials.api_key}",
        f"  org       {credentials.org_id}",
        f"  project   {credentials.project_id}",
    ]
    if fault_token is not None:
        lines.append(f"  faults    {FAULT_TOKEN_HEADER}: {fault_token}  (arms /_dev/faults)")
    lines += [f"  example   {alias}: {outcome}" for alias, outcome in examples]
    lines += ["", "# Point ViksaClient.from_env() at this platform:"]
    lines += [f"export {name}={value}" for name, value in credentials.env(base_url).items()]
    return "\n".join(lines) + "\n"


def _bind(port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP, and without it every answer waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    config: PlatformConfig,
    *,
    port: int,
    log_level: str = "warning",
    access_log: bool = False,
    allow_hosts: Iterable[str] = (),
    out: TextIO = sys.stdout,
    on_ready: Callable[[str, SeededCredentials], Callable[[], None]] | None = None,
) -> int:
    """Serve until interrupted; prints the banner once the port is bound. Exit code.

    Requests must name this machine in ``Host`` (see :func:`guard_hosts`); ``allow_hosts``
    admits more names. ``on_ready(base_url, credentials)`` runs after the banner, before
    the server starts (requests it sends wait in the listen queue); the function it
    returns runs when the server has stopped.
    """
    try:
        platform = Platform(config)
    except (OSError, sqlite3.Error, KeyFileError) as exc:
        print(
            f"viksa dev: cannot open the data file {config.data_path}: {exc}; pass another "
            "--data PATH, --reset to start clean, or --memory",
            file=sys.stderr,
        )
        return 2
    credentials = platform.seed()
    app = create_app(platform=platform)
    try:
        sock = _bind(port)
    except OSError as exc:
        platform.close()
        print(
            f"viksa dev: cannot listen on {HOST}:{port}: {exc.strerror}; pass --port",
            file=sys.stderr,
        )
        return 1
    base_url = f"http://{HOST}:{sock.getsockname()[1]}"
    examples: list[tuple[str, str]] = []
    if config.examples_dir is not None:
        examples = asyncio.run(deploy_examples(app, credentials, config.examples_dir))
    _, sandbox = sandbox_status(config.sandbox)
    link = platform.dashboard.issue_link(credentials.email)
    out.write(
        banner(
            base_url,
            credentials,
            config.data_path,
            examples,
            sandbox,
            fault_token=platform.fault_token,
            sign_in_token=link,
        )
    )
    out.flush()
    configure_logging()
    guarded = guard_hosts(app, HOST, allow_hosts)
    server = uvicorn.Server(_uvicorn_config(guarded, log_level=log_level, access_log=access_log))
    stop = on_ready(base_url, credentials) if on_ready is not None else None
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # Ctrl-C: uvicorn has shut down (workers stopped); no traceback for the user.
        return 130
    finally:
        if stop is not None:
            stop()
        sock.close()
    return 0
