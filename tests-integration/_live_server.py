"""A real ``viksa dev`` process for the live tests: started on a free port, banner read.

One starter for every suite that needs the platform over real sockets
(``test_platform_live``, ``test_dashboard_browser``, ``test_mcp_live``): it reads the
banner's export lines, the dev credentials and the dashboard's one-time link, and
returns once the port accepts connections. ``conftest.py`` makes this module
importable by its name (pytest's importlib mode puts no test folder on ``sys.path``).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["REPO", "Server", "free_port", "start_server", "stop_process"]

REPO = Path(__file__).resolve().parents[1]
_START_TIMEOUT = 60.0  # seconds: a bound on the start, never reached when things work
_EXPORT = re.compile(r"^export (VIKSA_[A-Z_]+)=(.*)$")
_FIELD = re.compile(r"^  (email|password)\s+(\S+)$")
_DASHBOARD = re.compile(r"^dashboard (http://\S+)")
_EXPORTS = 4  # VIKSA_BASE_URL, _API_KEY, _ORG_ID, _PROJECT_ID: the banner's last lines


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[Any]) -> None:
    """Terminate a child, kill it if it lingers, and close its output pipe."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)
    if process.stdout is not None:
        process.stdout.close()


@dataclass
class Server:
    """A running ``viksa dev`` and what its banner printed."""

    process: subprocess.Popen[str]
    env: dict[str, str]
    email: str
    password: str
    banner: str
    dashboard_link: str | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, as exported in ``VIKSA_BASE_URL``."""
        return self.env["VIKSA_BASE_URL"]

    def stop(self) -> None:
        """Stop the server process."""
        stop_process(self.process)


def _wait_listening(port: int) -> None:
    # The banner is printed just before uvicorn starts serving.
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.05)


def start_server(*args: str) -> Server:
    """Start ``viksa dev ARGS`` on a free port; return once it printed its export lines.

    Fails the test with the output so far when the banner does not come in time.
    """
    command = [sys.executable, "-m", "viksa_ai.devtools.cli", "dev", "--port", str(free_port())]
    process = subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO
    )
    assert process.stdout is not None
    lines: list[str] = []
    env: dict[str, str] = {}
    fields: dict[str, str] = {}
    link = None
    deadline = time.monotonic() + _START_TIMEOUT
    while len(env) < _EXPORTS and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        text = line.rstrip("\n")
        if match := _EXPORT.match(text):
            env[match[1]] = match[2]
        elif match := _FIELD.match(text):
            fields[match[1]] = match[2]
        elif match := _DASHBOARD.match(text):
            link = match[1]
    if len(env) < _EXPORTS:
        process.kill()
        process.wait(timeout=20)
        process.stdout.close()
        pytest.fail("viksa dev did not start:\n" + "".join(lines))
    server = Server(process, env, fields["email"], fields["password"], "".join(lines), link)
    _wait_listening(int(server.base_url.rsplit(":", 1)[1]))
    return server
