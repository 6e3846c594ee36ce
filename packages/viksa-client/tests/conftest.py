"""Fixtures of the client suite: mocked platform routes served over both transports.

Routes are declared with respx, against ``BASE``. A test that asks for ``make_client``
runs twice: once on httpx's own transport (respx answers in process) and once on the
aiohttp transport, whose requests cross a real socket to a small HTTP/1.1 server on
127.0.0.1 (the "bridge") that answers from the same respx routes. So the whole suite
checks both transports with the same routes and assertions.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import h11
import httpx
import pytest
import respx

from viksa_ai.client import HttpBackend, ViksaClient, ViksaSyncClient, _backends

BASE = "https://api.viksa.test"
TOKEN = "tok-access-1"
REFRESH = "tok-refresh-1"

# How long the bridge holds a request whose route raises a timeout: longer than the
# short timeouts such tests set, so the aiohttp client times out for real.
_STALL_SECONDS = 1.0


class ChunkStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent in the given chunks, optionally breaking after them."""

    def __init__(self, chunks: Iterable[bytes], fail: Exception | None = None) -> None:
        self.chunks = list(chunks)
        self.fail = fail

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.fail is not None:
            raise self.fail

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.fail is not None:
            raise self.fail


@dataclass
class Bridge:
    """An HTTP/1.1 server on 127.0.0.1 answering from the current respx router."""

    loop: asyncio.AbstractEventLoop
    port: int = 0
    router: respx.MockRouter | None = None
    errors: list[BaseException] = field(default_factory=list)
    writers: set[asyncio.StreamWriter] = field(default_factory=set)
    # Which test's router is current (the ``api`` fixture counts them): a connection
    # answers only in the test that opened it. A request a test's client sent and then
    # cancelled (the calls a failed ``get_many`` stops) can still arrive once that test
    # ended: answered from the next test's router, it failed that test.
    generation: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        born = self.generation
        self.writers.add(writer)
        try:
            while True:
                request = await self._read_request(conn, reader)
                if request is None:
                    return
                if self.generation != born:
                    writer.transport.abort()  # a request of a test that has ended
                    return
                keep_open = await self._answer(conn, writer, request)
                if not keep_open or conn.our_state is not h11.DONE:
                    return
                conn.start_next_cycle()
        except (ConnectionError, h11.RemoteProtocolError):
            return
        finally:
            self.writers.discard(writer)
            writer.close()

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> httpx.Request | None:
        head: h11.Request | None = None
        body = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                headers = [
                    (name.decode(), value.decode())
                    for name, value in head.headers
                    if name.lower() not in (b"host", b"content-length", b"transfer-encoding")
                ]
                return httpx.Request(
                    head.method.decode(),
                    BASE + head.target.decode(),
                    headers=headers,
                    content=body,
                )
            else:  # ConnectionClosed or PAUSED
                return None

    async def _answer(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, request: httpx.Request
    ) -> bool:
        assert self.router is not None, "no respx router is active"
        try:
            response = await self.router.async_handler(request)
        except httpx.TimeoutException:
            await asyncio.sleep(_STALL_SECONDS)
            writer.transport.abort()
            return False
        except httpx.TransportError:
            writer.transport.abort()  # the client sees the connection drop
            return False
        except Exception as exc:  # an assertion of respx: report it to the test
            self.errors.append(exc)
            writer.transport.abort()
            return False
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-length", "transfer-encoding")
        ]
        stream = response.stream
        if isinstance(stream, httpx.ByteStream):
            body = bytes(response.content)
            headers.append(("content-length", str(len(body))))
            writer.write(conn.send(h11.Response(status_code=response.status_code, headers=headers)))
            writer.write(conn.send(h11.Data(data=body)))
            writer.write(conn.send(h11.EndOfMessage()))
            await writer.drain()
            return True
        headers.append(("transfer-encoding", "chunked"))
        writer.write(conn.send(h11.Response(status_code=response.status_code, headers=headers)))
        try:
            async for chunk in stream:  # type: ignore[union-attr]
                if chunk:
                    writer.write(conn.send(h11.Data(data=chunk)))
                    await writer.drain()
        except httpx.TransportError:
            await writer.drain()
            writer.transport.abort()  # the body breaks mid-stream
            return False
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()
        return True


@contextmanager
def _threaded_server(holder: Bridge | Hostile, name: str, *, abort: bool) -> Iterator[None]:
    """Serve ``holder.serve`` on 127.0.0.1 from a loop of its own, in a thread.

    At the end its connections are closed (``abort``: reset, and their tasks
    cancelled, for handlers that may still be writing).
    """
    loop = holder.loop
    ready = threading.Event()
    servers: list[asyncio.Server] = []

    async def start() -> None:
        server = await asyncio.start_server(holder.serve, "127.0.0.1", 0)
        holder.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    assert ready.wait(10), f"the test server {name} did not start"
    yield

    async def stop() -> None:
        # Closing the sockets ends each connection's task on its own (it reads EOF).
        for writer in list(holder.writers):
            if abort:
                writer.transport.abort()
            else:
                writer.close()
        for server in servers:
            server.close()
            await server.wait_closed()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if abort:
            for task in pending:
                task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture(scope="session")
def bridge() -> Iterator[Bridge]:
    holder = Bridge(loop=asyncio.new_event_loop())
    with _threaded_server(holder, "viksa-test-bridge", abort=False):
        yield holder


@pytest.fixture
def api(bridge: Bridge) -> Iterator[respx.MockRouter]:
    """The mocked platform: declare routes on it (``api.get("/auth/me")``)."""
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        bridge.generation += 1
        bridge.router = router
        bridge.errors.clear()
        yield router
        bridge.router = None
        bridge.generation += 1
    if bridge.errors:
        raise bridge.errors[0]


@pytest.fixture(params=["httpx", "aiohttp"])
def backend(request: pytest.FixtureRequest) -> HttpBackend:
    """The transport under test (every test using a client runs on both)."""
    value: HttpBackend = request.param
    return value


@pytest.fixture
def base_url(backend: HttpBackend, bridge: Bridge) -> str:
    """Where the client under test sends: respx's BASE, or the bridge for aiohttp."""
    return bridge.url if backend == "aiohttp" else BASE


@pytest.fixture
async def make_client(
    api: respx.MockRouter, backend: HttpBackend, base_url: str
) -> AsyncIterator[Callable[..., ViksaClient]]:
    """Build async clients on the transport under test; closed after the test."""
    made: list[ViksaClient] = []

    def make(*args: Any, **kwargs: Any) -> ViksaClient:
        kwargs.setdefault("base_url", base_url)
        kwargs.setdefault("http_backend", backend)
        if not args and "api_key" not in kwargs:
            kwargs.setdefault("access_token", TOKEN)
        client = ViksaClient(*args, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
def make_sync_client(api: respx.MockRouter) -> Iterator[Callable[..., ViksaSyncClient]]:
    """Build sync clients (httpx transport, answered by respx); closed after the test."""
    made: list[ViksaSyncClient] = []

    def make(*args: Any, **kwargs: Any) -> ViksaSyncClient:
        kwargs.setdefault("base_url", BASE)
        if not args and "api_key" not in kwargs:
            kwargs.setdefault("access_token", TOKEN)
        client = ViksaSyncClient(*args, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry waits, recorded instead of slept, so retry tests run instantly."""
    recorded: list[float] = []

    async def fake_async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    def fake_sync_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(_backends, "async_sleep", fake_async_sleep)
    monkeypatch.setattr(_backends, "sync_sleep", fake_sync_sleep)
    return recorded


def token_body(
    access: str = "tok-access-2", refresh: str = "tok-refresh-2", **extra: Any
) -> dict[str, Any]:
    """A TokenResponse body."""
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": 3600,
        "user_id": "u1",
        "account_id": "a1",
        **extra,
    }


@pytest.fixture
def tokens() -> Callable[..., dict[str, Any]]:
    """Factory of TokenResponse bodies."""
    return token_body


@pytest.fixture
def chunked() -> type[ChunkStream]:
    """The ChunkStream class: a body sent in chosen chunks, optionally breaking."""
    return ChunkStream


_SUB_CLIENTS = ("auth", "builder", "chat", "pulse", "workflow", "scheduler", "marketplace")


def _operations(client: object) -> dict[str, Any]:
    """Every operation reachable from a client's sub-clients: dotted name -> method."""
    found: dict[str, Any] = {}

    def walk(obj: object, prefix: str) -> None:
        for name in dir(obj):
            if name.startswith("_"):
                continue
            value = getattr(obj, name)
            if inspect.ismethod(value):
                found[prefix + name] = value
            elif type(value).__module__.startswith("viksa_ai.client._"):
                walk(value, prefix + name + ".")

    for name in _SUB_CLIENTS:
        walk(getattr(client, name), name + ".")
    return found


@pytest.fixture
def operations() -> Callable[[object], dict[str, Any]]:
    """Lists every operation of a client (``operations(client)``)."""
    return _operations


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Hostile:
    """A raw TCP server on 127.0.0.1 whose handler writes whatever bytes a test wants.

    Each connection runs ``handler(reader, writer)`` on the server's own loop (another
    thread, so sync clients can call it too). ``requests`` holds the head of every request
    read with ``read_request``; ``dropped`` is set when a handler's write failed because
    the client went away (it closed the connection: nothing leaked).
    """

    loop: asyncio.AbstractEventLoop
    port: int = 0
    handler: Handler | None = None
    requests: list[bytes] = field(default_factory=list)
    dropped: threading.Event = field(default_factory=threading.Event)
    writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        dropped = self.dropped  # this test's, even if the handler outlives it
        try:
            assert self.handler is not None, "no handler set for the hostile server"
            await self.handler(reader, writer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            dropped.set()
        finally:
            self.writers.discard(writer)
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        """Read one request (head and a Content-Length body); return its head."""
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length" and int(value) > 0:
                await reader.readexactly(int(value))
        return head


@pytest.fixture(scope="session")
def hostile_server() -> Iterator[Hostile]:
    holder = Hostile(loop=asyncio.new_event_loop())
    with _threaded_server(holder, "viksa-test-hostile", abort=True):
        yield holder


@pytest.fixture
def hostile(hostile_server: Hostile) -> Iterator[Hostile]:
    """The hostile server, reset for one test: set ``hostile.handler`` first."""
    hostile_server.handler = None
    hostile_server.requests.clear()
    hostile_server.dropped = threading.Event()
    yield hostile_server

    async def abort_all() -> None:  # a handler still dripping must not outlive its test
        for writer in list(hostile_server.writers):
            writer.transport.abort()

    asyncio.run_coroutine_threadsafe(abort_all(), hostile_server.loop).result(10)
    hostile_server.handler = None
