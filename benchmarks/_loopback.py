"""A minimal HTTP/1.1 server on 127.0.0.1, in its own process, for the client benchmarks.

It answers every GET with a small agent document, every POST with a small created
document, and any path ending in ``/stream`` with ``events`` Server-Sent Events followed
by ``data: [DONE]``. Parsing is kept to the bare minimum (keep-alive, Content-Length) so the
server is much faster than any client measured against it.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import socket
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

AGENT = json.dumps(
    {
        "id": "ag-1",
        "agent_name": "flights",
        "agent_alias": "flights",
        "agent_description": "Finds flights between two airports",
        "agent_type": "cloud",
        "status": "enabled",
        "agent_endpoints": [
            {"name": "search", "module": "main", "endpoint": "flights.main.search"},
            {"name": "book", "module": "main", "endpoint": "flights.main.book"},
        ],
    }
).encode()
CREATED = json.dumps({"id": "ag-2", "status": "created"}).encode()


def sse_body(events: int) -> bytes:
    """``events`` small JSON events, then ``[DONE]``."""
    lines = b"".join(b'data: {"i": %d, "text": "hello world"}\n\n' % i for i in range(events))
    return lines + b"data: [DONE]\n\n"


def _response(body: bytes, content_type: bytes = b"application/json") -> bytes:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n" % (
        content_type,
        len(body),
    )
    return head + body


class _Protocol(asyncio.Protocol):
    def __init__(self, answers: dict[bytes, bytes]) -> None:
        self._answers = answers
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buffer[:end]
            length = 0
            marker = head.lower().find(b"\r\ncontent-length:")
            if marker >= 0:
                stop = head.find(b"\r\n", marker + 2)
                length = int(head[marker + 17 : stop if stop >= 0 else len(head)])
            total = end + 4 + length
            if len(self._buffer) < total:
                return
            method, target = head.split(b" ", 2)[:2]
            self._buffer = self._buffer[total:]
            assert self._transport is not None
            key = b"SSE" if target.endswith(b"/stream") else method
            self._transport.write(self._answers[key])


def _serve(ready: Connection, cpu: int | None, events: int) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    answers = {
        b"GET": _response(AGENT),
        b"POST": _response(CREATED),
        b"PUT": _response(CREATED),
        b"SSE": _response(sse_body(events), b"text/event-stream"),
    }

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Protocol(answers), "127.0.0.1", 0, backlog=512)
        ready.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def cpus() -> tuple[int | None, int | None]:
    """(client cpu, server cpu): two different cores when the machine has them."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None, None
    return available[0], available[1]


def start(cpu: int | None, events: int = 0) -> tuple[BaseProcess, int]:
    """Start the server in a new process pinned to ``cpu``; returns it and its port."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(child, cpu, events), daemon=True)
    process.start()
    if not parent.poll(30):
        process.kill()
        raise RuntimeError("the loopback server did not start")
    port: int = parent.recv()
    return process, port


def stop(process: BaseProcess) -> None:
    """Stop the server process."""
    process.terminate()
    process.join(10)
    if process.is_alive():
        process.kill()
        process.join(10)
