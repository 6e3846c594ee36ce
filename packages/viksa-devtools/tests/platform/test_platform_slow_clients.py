"""Slowloris: a header deadline and a connection cap on the server viksa dev runs (item 11).

Real sockets on 127.0.0.1, a handful of connections, every wait bounded.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from viksa_ai.devtools.platform import create_app
from viksa_ai.devtools.platform.http._serve import _bind, _uvicorn_config
from viksa_ai.devtools.platform.http._slow_clients import default_max_connections

HEADER_TIMEOUT = 0.5
CAP = 6
WAIT = 10.0  # the longest any read here may wait; the server answers within HEADER_TIMEOUT
PARTIAL = b"GET /_dev/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
FULL = PARTIAL + b"\r\n"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server() -> Iterator[tuple[int, _Lines]]:
    """viksa dev's uvicorn settings on a free port, in a thread; yields (port, log lines)."""
    app = create_app()
    config = _uvicorn_config(
        app,
        log_level="warning",
        access_log=False,
        header_timeout=HEADER_TIMEOUT,
        max_connections=CAP,
    )
    served = uvicorn.Server(config)
    lines = _Lines()
    logging.getLogger("uvicorn.error").addHandler(lines)
    sock = _bind(0)
    thread = threading.Thread(target=served.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(400):
            if served.started:
                break
            time.sleep(0.025)
        assert served.started
        yield sock.getsockname()[1], lines
    finally:
        served.should_exit = True
        thread.join(WAIT)
        sock.close()
        logging.getLogger("uvicorn.error").removeHandler(lines)


def _connect(port: int) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    conn.settimeout(WAIT)
    return conn


def _closed_by_server(conn: socket.socket) -> bool:
    """Whether the server closes ``conn`` (within WAIT) without answering."""
    try:
        return conn.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    finally:
        conn.close()


def _answer(conn: socket.socket, rest: bytes = FULL) -> bytes:
    conn.sendall(rest)
    data = b""
    while b'{"status":"ok"}' not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_half_sent_headers_are_cut_off(server: tuple[int, _Lines]) -> None:
    port, _ = server
    stalled = _connect(port)
    stalled.sendall(PARTIAL)
    silent = _connect(port)
    assert _closed_by_server(stalled)
    assert _closed_by_server(silent)


def test_a_keep_alive_connection_stalling_its_next_request_is_cut_off(
    server: tuple[int, _Lines],
) -> None:
    port, _ = server
    conn = _connect(port)
    assert _answer(conn).startswith(b"HTTP/1.1 200")
    conn.sendall(PARTIAL)
    assert _closed_by_server(conn)


def test_requests_sent_in_time_are_served(server: tuple[int, _Lines]) -> None:
    port, _ = server
    for _ in range(3):
        with _connect(port) as conn:
            # Headers sent in pieces, but completed within the deadline.
            conn.sendall(PARTIAL)
            assert _answer(conn, b"\r\n").startswith(b"HTTP/1.1 200")


def test_connections_over_the_cap_are_closed_and_the_drops_logged_in_one_line(
    server: tuple[int, _Lines],
) -> None:
    port, lines = server
    held = [_connect(port) for _ in range(CAP)]
    for conn in held:
        conn.sendall(PARTIAL)
    extra = _connect(port)
    assert _closed_by_server(extra)
    assert all(_closed_by_server(conn) for conn in held)
    # Once the stalled ones are gone, the server answers again.
    with _connect(port) as conn:
        assert _answer(conn).startswith(b"HTTP/1.1 200")
    closing = [r for r in lines.records if "closed" in r.getMessage()]
    assert len(closing) == 1
    assert "over the cap of 6 open connections" in closing[0].getMessage()
    assert all(r.exc_info is None for r in lines.records)


def test_the_default_cap_stays_under_the_descriptor_limit() -> None:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert 16 <= default_max_connections() <= max(16, min(1000, soft // 2))
