"""Slowloris: a header deadline, a body deadline and a connection cap on the server viksa
dev runs (issue 9, item 11 and the body part left open after it).

Real sockets on 127.0.0.1, a handful of connections, every wait bounded.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn

from viksa_ai.devtools import cli
from viksa_ai.devtools.platform import PlatformConfig, create_app
from viksa_ai.devtools.platform._config import DEFAULT_BODY_TIMEOUT_SECONDS
from viksa_ai.devtools.platform.http._serve import _uvicorn_config
from viksa_ai.devtools.platform.http._slow_clients import default_max_connections

HEADER_TIMEOUT = 0.5
BODY_TIMEOUT = 1.0
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
def server(
    uvicorn_in_thread: Callable[[uvicorn.Config], contextlib.AbstractContextManager[int]],
) -> Iterator[tuple[int, _Lines]]:
    """viksa dev's uvicorn settings on a free port, in a thread; yields (port, log lines)."""
    app = create_app(PlatformConfig(body_timeout=BODY_TIMEOUT))
    config = _uvicorn_config(
        app,
        log_level="warning",
        access_log=False,
        header_timeout=HEADER_TIMEOUT,
        max_connections=CAP,
    )
    lines = _Lines()
    logging.getLogger("uvicorn.error").addHandler(lines)
    try:
        with uvicorn_in_thread(config) as port:
            yield port, lines
    finally:
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


LOGIN = b'{"email": "dev@viksa.local", "password": "not-the-password"}'


def _post_head(length: int) -> bytes:
    return (
        b"POST /auth/individual/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length
    )


def _read_all(conn: socket.socket) -> bytes:
    """What the server sends until it closes ``conn`` (each read bounded by WAIT)."""
    data = b""
    try:
        while chunk := conn.recv(4096):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def _trickle(conn: socket.socket, body: bytes, every: float, stop: threading.Event) -> None:
    for byte in body:
        if stop.wait(every):
            return
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return


@pytest.mark.parametrize("how", ["trickled", "stalled"])
def test_a_body_that_does_not_arrive_in_time_is_answered_408_and_closed(
    server: tuple[int, _Lines], how: str
) -> None:
    port, _ = server
    stop = threading.Event()
    with _connect(port) as conn:
        # Headers at once (the header deadline is met), then the body a byte at a time,
        # each well within the header deadline: only a body deadline ends this.
        conn.sendall(_post_head(len(LOGIN)) + LOGIN[:5])
        every = HEADER_TIMEOUT / 5 if how == "trickled" else WAIT
        sender = threading.Thread(target=_trickle, args=(conn, LOGIN[5:], every, stop))
        sender.start()
        try:
            started = time.monotonic()
            answer = _read_all(conn)
            took = time.monotonic() - started
        finally:
            stop.set()
            sender.join(WAIT)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"connection: close" in head.lower()
    assert b'"body_timeout"' in body
    assert b"--body-timeout" in body
    # Closed by the server at the deadline, not by the end of the trickle (55 bytes).
    assert took < len(LOGIN) * HEADER_TIMEOUT / 5


def test_a_body_sent_in_pieces_in_time_is_served(server: tuple[int, _Lines]) -> None:
    port, _ = server
    with _connect(port) as conn:
        conn.sendall(_post_head(len(LOGIN)) + LOGIN[:10])
        time.sleep(BODY_TIMEOUT / 4)
        conn.sendall(LOGIN[10:])
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    # A wrong password: the body arrived whole and was read.
    assert data.startswith(b"HTTP/1.1 401"), data[:200]


def test_viksa_dev_takes_the_body_timeout_in_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[PlatformConfig] = []

    def fake_serve(config: PlatformConfig, **_: object) -> int:
        started.append(config)
        return 0

    monkeypatch.setattr("viksa_ai.devtools.platform.http._serve.serve", fake_serve)
    assert cli.main(["dev", "--memory", "--body-timeout", "5"]) == 0
    assert cli.main(["dev", "--memory"]) == 0
    assert [c.body_timeout for c in started] == [5.0, DEFAULT_BODY_TIMEOUT_SECONDS]
    assert DEFAULT_BODY_TIMEOUT_SECONDS == 30.0
