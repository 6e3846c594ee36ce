"""Serving the platform on 127.0.0.1 with uvicorn, and the start banner."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from pathlib import Path
from typing import TextIO

import uvicorn

from viksa_ai.devtools.platform._app import create_app
from viksa_ai.devtools.platform._config import PlatformConfig
from viksa_ai.devtools.platform._examples import deploy_examples
from viksa_ai.devtools.platform._faults import DroppedConnection
from viksa_ai.devtools.platform._platform import Platform, SeededCredentials

__all__ = ["HOST", "banner", "serve"]

HOST = "127.0.0.1"


class _QuietDrops(logging.Filter):
    """Drop uvicorn's traceback for connections cut on purpose by a fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


def banner(
    base_url: str,
    credentials: SeededCredentials,
    data: Path | None,
    examples: list[tuple[str, str]],
) -> str:
    """What ``viksa dev`` prints on every start: where, who, and the export lines."""
    lines = [
        f"Viksa local platform: {base_url}  (API docs: {base_url}/docs)",
        f"  data      {data if data is not None else 'in memory (lost on exit)'}",
        f"  email     {credentials.email}",
        f"  password  {credentials.password}",
        f"  api key   {credentials.api_key}",
        f"  org       {credentials.org_id}",
        f"  project   {credentials.project_id}",
    ]
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
    out: TextIO = sys.stdout,
) -> int:
    """Serve until interrupted; prints the banner once the port is bound. Exit code."""
    platform = Platform(config)
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
    out.write(banner(base_url, credentials, config.data_path, examples))
    out.flush()
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
    server = uvicorn.Server(
        uvicorn.Config(app, log_level=log_level, access_log=access_log, lifespan="on")
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0
