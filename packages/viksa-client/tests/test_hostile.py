"""The client against slow, broken and hostile servers (issue 10).

Every test talks to a real server on 127.0.0.1 (the ``hostile`` fixture) that writes the
bytes the test chooses, and runs on each transport: the async client over httpx and over
aiohttp, and the sync client (httpx).
"""

from __future__ import annotations

import asyncio
import gzip
import inspect
import json
import logging
import pickle
import re
import socket
import traceback
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from viksa_ai.client import (
    ClientConfig,
    RequestOptions,
    RetryConfig,
    ViksaClient,
    ViksaConfigError,
    ViksaConflictError,
    ViksaDecodeError,
    ViksaError,
    ViksaNotFoundError,
    ViksaRateLimitError,
    ViksaResponseTooLargeError,
    ViksaServerError,
    ViksaSyncClient,
    ViksaTimeoutError,
    ViksaTransportError,
)

TOKEN = "tok-hostile-1"
API_KEY = 'vk_live/host+ile=&key"x'
PASSPHRASE = "pass phrase/+&=ü"
NO_RETRY = RetryConfig(max_retries=0)

Op = Callable[[Any], Any]


@pytest.fixture(params=["httpx", "aiohttp", "sync"])
def transport(request: pytest.FixtureRequest) -> str:
    """The async client on httpx, on aiohttp, and the sync client."""
    value: str = request.param
    return value


async def call(transport: str, url: str, op: Op, **kwargs: Any) -> Any:
    """``op(client)`` on a client of ``transport`` sending to ``url``; closed after."""
    kwargs.setdefault("access_token", TOKEN)
    if transport == "sync":
        # In a thread: the sync client blocks, and the loop keeps serving the test.
        def run() -> Any:
            with ViksaSyncClient(base_url=url, **kwargs) as client:
                return op(client)

        return await asyncio.to_thread(run)
    async with ViksaClient(base_url=url, http_backend=transport, **kwargs) as client:  # type: ignore[arg-type]
        result = op(client)
        return await result if inspect.isawaitable(result) else result


async def drain_stream(stream: Any) -> list[Any]:
    """Every item of an async or sync event stream."""
    if hasattr(stream, "__aiter__"):
        return [item async for item in stream]
    return list(stream)


def collect(stream_of: Callable[[Any], Any]) -> Op:
    """An op that reads a whole event stream (async or sync)."""

    def op(client: Any) -> Any:
        stream = stream_of(client)
        if isinstance(client, ViksaSyncClient):
            return list(stream)
        return drain_stream(stream)

    return op


def head(status: int, *headers: str, length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "Connection: close", *headers]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def answer(status: int, body: bytes, *headers: str) -> bytes:
    return head(status, *headers, length=len(body)) + body


def json_answer(status: int, value: Any, *headers: str) -> bytes:
    return answer(status, json.dumps(value).encode(), "Content-Type: application/json", *headers)


def answering(*replies: bytes) -> Callable[[Any], Any]:
    """A handler answering the n-th request with ``replies[n]`` (the last one after)."""

    def make(server: Any) -> Any:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read_request(reader)
            index = min(len(server.requests), len(replies)) - 1
            writer.write(replies[index])

        return handler

    return make


def usage(client: Any) -> Any:
    return client.auth.usage(options=RequestOptions(retry=NO_RETRY))


# -- 1. the deadline bounds the whole call ------------------------------------------


def _dripping_body(server: Any) -> Any:
    """A handler sending a 60-byte JSON body a byte every 100 ms (about 6 s)."""
    body = json.dumps({"pad": "x" * 49}).encode()

    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(head(200, "Content-Type: application/json", length=len(body)))
        for byte in body:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.1)

    return drip


async def test_deadline_cuts_a_body_dripping_one_byte_at_a_time(
    hostile: Any, transport: str
) -> None:
    # 60 bytes at 0.1 s each: each read arrives well within the read timeout, so only a
    # deadline over the whole call can end it before the body (valid JSON) completes.
    hostile.handler = _dripping_body(hostile)
    with pytest.raises(ViksaTimeoutError) as caught:
        await call(
            transport,
            hostile.url,
            lambda c: c.auth.usage(),
            timeout=30.0,
            retry=RetryConfig(deadline=0.5, max_retries=0),
        )
    assert "deadline" in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)
    # The client hung up: the server's next write fails (nothing left open).
    assert await asyncio.to_thread(hostile.dropped.wait, 10)


async def test_deadline_cuts_a_chunked_body_that_takes_too_long(
    hostile: Any, transport: str
) -> None:
    # A JSON list sent two bytes at a time for 5 s (bounded, so that a client ignoring
    # its deadline fails this test rather than hangs it).
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await hostile.read_request(reader)
        writer.write(head(200, "Content-Type: application/json", "Transfer-Encoding: chunked"))
        writer.write(b"2\r\n[0\r\n")
        for _ in range(100):
            writer.write(b"2\r\n,1\r\n")
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.write(b"1\r\n]\r\n0\r\n\r\n")

    hostile.handler = slow
    with pytest.raises(ViksaTimeoutError):
        await call(
            transport,
            hostile.url,
            lambda c: c.request("GET", "/auth", "/usage"),
            retry=RetryConfig(deadline=0.5, max_retries=0),
        )
    assert await asyncio.to_thread(hostile.dropped.wait, 10)


def _dripping_head(server: Any, content_type: str, body: bytes) -> Any:
    """A handler sending its status line and headers a byte every 50 ms (about 6 s)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        start = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nX-Pad: ".encode()
        for byte in start + b"p" * 80:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.write(b"\r\nConnection: close\r\n\r\n" + body)

    return handler


async def test_deadline_bounds_opening_a_stream_whose_headers_drip(
    hostile: Any, transport: str
) -> None:
    hostile.handler = _dripping_head(hostile, "text/event-stream", b"data: 1\n\n")
    with pytest.raises(ViksaTimeoutError):
        await call(
            transport,
            hostile.url,
            collect(lambda c: c.chat.stream_execution("c1")),
            retry=RetryConfig(deadline=0.5, max_retries=0),
        )
    assert await asyncio.to_thread(hostile.dropped.wait, 10)


async def test_deadline_cuts_headers_that_drip(hostile: Any, transport: str) -> None:
    hostile.handler = _dripping_head(hostile, "application/json", b"{}")
    with pytest.raises(ViksaTimeoutError) as caught:
        await call(
            transport,
            hostile.url,
            lambda c: c.auth.usage(),
            retry=RetryConfig(deadline=0.5, max_retries=0),
        )
    assert "deadline" in str(caught.value)
    assert await asyncio.to_thread(hostile.dropped.wait, 10)


async def test_deadline_cuts_a_dripping_body_on_a_callers_own_sync_client(hostile: Any) -> None:
    # A caller's httpx.Client has no bounded sockets: its body read is cut by shutting
    # the socket down at the deadline.
    hostile.handler = _dripping_body(hostile)

    def run() -> Any:
        with (
            httpx.Client() as http,
            ViksaSyncClient(
                TOKEN,
                base_url=hostile.url,
                http_client=http,
                retry=RetryConfig(deadline=0.5, max_retries=0),
            ) as client,
        ):
            return client.auth.usage()

    with pytest.raises(ViksaTimeoutError):
        await asyncio.to_thread(run)
    assert await asyncio.to_thread(hostile.dropped.wait, 10)


async def test_deadline_does_not_bound_reading_an_opened_stream(
    hostile: Any, transport: str
) -> None:
    # Documented: the deadline covers opening a stream; its events may take longer.
    async def slow_events(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await hostile.read_request(reader)
        writer.write(head(200, "Content-Type: text/event-stream"))
        for n in range(6):
            writer.write(f"data: {n}\n\n".encode())
            await writer.drain()
            await asyncio.sleep(0.1)
        writer.write(b"data: [DONE]\n\n")

    hostile.handler = slow_events
    events = await call(
        transport,
        hostile.url,
        collect(lambda c: c.chat.stream_execution("c1")),
        retry=RetryConfig(deadline=0.3, max_retries=0),
    )
    assert events == [0, 1, 2, 3, 4, 5]


# -- 2. Retry-After longer than the policy waits ------------------------------------


def _in_an_hour() -> str:
    return format_datetime(datetime.now(timezone.utc) + timedelta(hours=1), usegmt=True)


@pytest.mark.parametrize("retry_after", ["3600", "date"])
async def test_rate_limit_asking_longer_than_the_policy_fails_at_once(
    hostile: Any, transport: str, sleeps: list[float], retry_after: str
) -> None:
    value = _in_an_hour() if retry_after == "date" else retry_after
    hostile.handler = answering(
        json_answer(429, {"detail": "slow down"}, f"Retry-After: {value}"),
        json_answer(200, {}),
    )(hostile)
    with pytest.raises(ViksaRateLimitError) as caught:
        await call(transport, hostile.url, lambda c: c.auth.usage())
    assert caught.value.retry_after is not None
    assert 3500 < caught.value.retry_after <= 3600
    assert len(hostile.requests) == 1  # no attempt, no wait: the caller decides
    assert sleeps == []


async def test_rate_limit_within_the_policy_is_waited_and_retried(
    hostile: Any, transport: str, sleeps: list[float]
) -> None:
    hostile.handler = answering(
        json_answer(429, {"detail": "slow down"}, "Retry-After: 2"),
        json_answer(200, {"ok": True}),
    )(hostile)
    assert await call(transport, hostile.url, lambda c: c.auth.usage()) == {"ok": True}
    assert sleeps == [2.0]
    assert len(hostile.requests) == 2


# -- 3. a 409 for an Idempotency-Key still in use is retried -------------------------

# The local platform's words (viksa-devtools' idempotency middleware) for this 409.
IN_PROGRESS = {
    "detail": {
        "message": "A request with this Idempotency-Key is still running; retry later.",
        "code": "idempotency_in_progress",
        "field": None,
    }
}
EXECUTION = {"status": "completed", "execution_id": "ex-1", "endpoint": "a.m.f"}
EXECUTE = {"agent_id": "a", "agent_type": "cloud", "endpoint": "a.m.f"}


def _keys(server: Any) -> list[str]:
    keys = []
    for request in server.requests:
        for line in request.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "idempotency-key":
                keys.append(value.strip())
    return keys


@pytest.mark.parametrize(
    "conflict",
    [
        IN_PROGRESS,
        {"detail": "Idempotency-Key is in use by another request"},  # a gateway's words
        {"error": "idempotency_key_in_use", "code": "idempotency_key_in_use"},
    ],
)
async def test_a_write_meeting_its_own_first_attempt_still_running_is_retried(
    hostile: Any, transport: str, sleeps: list[float], conflict: Any
) -> None:
    hostile.handler = answering(
        json_answer(409, conflict), json_answer(409, conflict), json_answer(200, EXECUTION)
    )(hostile)
    result = await call(transport, hostile.url, lambda c: c.pulse.execute(EXECUTE))
    assert result.execution_id == "ex-1"  # the write's answer is not lost
    keys = _keys(hostile)
    assert len(keys) == 3
    assert len(set(keys)) == 1
    assert len(sleeps) == 2


async def test_key_in_use_is_retried_until_the_deadline_not_max_retries(
    hostile: Any, transport: str, sleeps: list[float]
) -> None:
    replies = [json_answer(409, IN_PROGRESS)] * 6 + [json_answer(200, EXECUTION)]
    hostile.handler = answering(*replies)(hostile)
    retry = RetryConfig(max_retries=2, initial_delay=0.0, max_delay=0.0, deadline=30)
    result = await call(transport, hostile.url, lambda c: c.pulse.execute(EXECUTE), retry=retry)
    assert result.execution_id == "ex-1"
    assert len(hostile.requests) == 7


async def test_other_conflicts_and_keyless_writes_are_not_retried(
    hostile: Any, transport: str, sleeps: list[float]
) -> None:
    hostile.handler = answering(json_answer(409, {"detail": "Agent name already taken"}))(hostile)
    with pytest.raises(ViksaConflictError):
        await call(transport, hostile.url, lambda c: c.pulse.execute(EXECUTE))
    assert len(hostile.requests) == 1
    hostile.requests.clear()
    hostile.handler = answering(json_answer(409, IN_PROGRESS))(hostile)
    with pytest.raises(ViksaConflictError) as caught:
        await call(
            transport,
            hostile.url,
            lambda c: c.pulse.execute(EXECUTE),
            config=ClientConfig(auto_idempotency_keys=False),
        )
    assert caught.value.details[0].code == "idempotency_in_progress"
    assert len(hostile.requests) == 1  # a 409 for a key this call did not send
    assert sleeps == []


async def test_key_in_use_gives_up_after_max_retries_without_a_deadline(
    hostile: Any, transport: str, sleeps: list[float]
) -> None:
    hostile.handler = answering(json_answer(409, IN_PROGRESS))(hostile)
    with pytest.raises(ViksaConflictError):
        await call(
            transport,
            hostile.url,
            lambda c: c.pulse.execute(EXECUTE),
            retry=RetryConfig(max_retries=2),
        )
    assert len(hostile.requests) == 3


# -- 4. one error family, the original as __cause__ ----------------------------------


def _bad_gzip(server: Any) -> Any:
    return answering(
        answer(200, b"\x1f\x8b not gzip at all", "Content-Encoding: gzip", "Content-Type: a/json")
    )(server)


def _huge_header(server: Any) -> Any:
    return answering(head(200, "X-Huge: " + "h" * 300_000, length=2) + b"{}")(server)


def _garbage_status(server: Any) -> Any:
    return answering(b"HELLO THERE\r\n\r\n")(server)


def _short_body(server: Any) -> Any:
    return answering(head(200, "Content-Type: application/json", length=100) + b'{"a":')(server)


def _hang_up(server: Any) -> Any:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.transport.abort()

    return handler


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        (_bad_gzip, ViksaDecodeError),
        (_huge_header, ViksaTransportError),
        (_garbage_status, ViksaTransportError),
        (_short_body, ViksaTransportError),
        (_hang_up, ViksaTransportError),
    ],
)
async def test_broken_answers_raise_the_same_typed_error_on_every_transport(
    hostile: Any, transport: str, server: Callable[[Any], Any], expected: type[ViksaError]
) -> None:
    hostile.handler = server(hostile)
    with pytest.raises(ViksaError) as caught:
        await call(transport, hostile.url, usage)
    assert type(caught.value) is expected
    assert caught.value.__cause__ is not None


async def test_a_bad_gzip_stream_raises_a_decode_error(hostile: Any, transport: str) -> None:
    good = gzip.compress(b"data: 1\n\n")
    hostile.handler = answering(
        head(200, "Content-Type: text/event-stream", "Content-Encoding: gzip", length=None)
        + good[:-8]
        + b"garbage!" * 4
    )(hostile)
    with pytest.raises(ViksaDecodeError) as caught:
        await call(transport, hostile.url, collect(lambda c: c.chat.stream_execution("c1")))
    assert isinstance(caught.value.__cause__, httpx.DecodingError)


@pytest.mark.parametrize("path", ["/usage\r\nX-Injected: 1", "/usage\rx", "/us\nage"])
async def test_a_line_break_in_a_raw_path_is_a_config_error(
    hostile: Any, transport: str, path: str
) -> None:
    hostile.handler = answering(json_answer(200, {}))(hostile)
    with pytest.raises(ViksaConfigError) as caught:
        await call(transport, hostile.url, lambda c: c.request("GET", "/auth", path))
    assert isinstance(caught.value.__cause__, httpx.InvalidURL)
    assert hostile.requests == []  # nothing was sent


# -- 5. secrets scrubbed in every encoding -------------------------------------------


def _lower_hex(text: str) -> str:
    """Percent escapes in lower-case hex, as some servers write them."""
    return re.sub("%[0-9A-F]{2}", lambda match: match.group().lower(), text)


def _encodings(secret: str) -> list[str]:
    return [
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        _lower_hex(quote(secret, safe="")),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    ]


def _assert_scrubbed(text: str) -> None:
    for secret in (PASSPHRASE, API_KEY):
        for form in _encodings(secret):
            assert form not in text, form


async def test_an_echoed_url_never_brings_the_passphrase_into_the_error(
    hostile: Any, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await hostile.read_request(reader)
        target = request.split(b" ")[1].decode("latin-1")
        forms = [target, target.replace("%20", "+"), *_encodings(PASSPHRASE)]
        writer.write(json_answer(404, {"detail": f"no secret at {' '.join(forms)}"}))

    hostile.handler = echo
    caplog.set_level(logging.DEBUG, logger="viksa_ai")
    with pytest.raises(ViksaNotFoundError) as caught:
        await call(
            transport,
            hostile.url,
            lambda c: c.builder.secrets.get_secret("s1", passphrase=PASSPHRASE),
        )
    assert "passphrase=" in hostile.requests[0].decode("latin-1")  # it was echoed
    error = caught.value
    for text in (str(error), repr(error), json.dumps(error.body), error.detail_message):
        _assert_scrubbed(text)
    _assert_scrubbed(caplog.text)


async def test_non_json_stream_events_keep_no_key_in_raw(hostile: Any, transport: str) -> None:
    forms = " ".join(_encodings(API_KEY))
    hostile.handler = answering(
        head(200, "Content-Type: text/event-stream") + f"data: echo {forms}\n\n".encode()
    )(hostile)
    with pytest.raises(ViksaDecodeError) as caught:
        await call(
            transport,
            hostile.url,
            collect(lambda c: c.chat.stream_execution("c1")),
            access_token=None,
            api_key=API_KEY,
        )
    assert "[redacted]" in caught.value.raw
    _assert_scrubbed(caught.value.raw)
    _assert_scrubbed(str(caught.value))


async def test_transport_errors_keep_no_secret_of_the_url(hostile: Any, transport: str) -> None:
    hostile.handler = _hang_up(hostile)
    with pytest.raises(ViksaTransportError) as caught:
        await call(
            transport,
            hostile.url,
            lambda c: c.builder.secrets.get_secret(
                "s1", passphrase=PASSPHRASE, options=RequestOptions(retry=NO_RETRY)
            ),
        )
    _assert_scrubbed(str(caught.value))


# -- 6. caps on what is buffered ------------------------------------------------------

SMALL = ClientConfig(max_answer_bytes=4096, max_event_bytes=1024)


def _big_json() -> bytes:
    return json.dumps({"pad": "x" * 20_000}).encode()


def _gzip_bomb() -> bytes:
    # 1 MiB of zeros in about 1 KiB: far over the 4 KiB cap once inflated.
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(b"0" * (1024 * 1024)) + compressor.flush()


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(json_answer(200, {"pad": "x" * 20_000}), id="declared-length"),
        pytest.param(head(200, "Content-Type: application/json") + _big_json(), id="until-close"),
        pytest.param(
            answer(200, _gzip_bomb(), "Content-Encoding: gzip", "Content-Type: application/json"),
            id="gzip-bomb",
        ),
    ],
)
async def test_answers_over_the_cap_end_with_a_typed_error(
    hostile: Any, transport: str, reply: bytes
) -> None:
    assert len(reply) < 40_000
    hostile.handler = answering(reply)(hostile)
    with pytest.raises(ViksaResponseTooLargeError) as caught:
        await call(transport, hostile.url, usage, config=SMALL)
    assert caught.value.limit == 4096
    assert caught.value.setting == "max_answer_bytes"
    assert "max_answer_bytes" in str(caught.value)
    assert isinstance(caught.value, ViksaDecodeError)


async def test_an_answer_declared_over_the_cap_releases_its_connection(
    hostile: Any, transport: str
) -> None:
    # Refused on its Content-Length before a byte of the body was read: the connection
    # must still be given up, or each such answer keeps one out of the pool for good.
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await hostile.read_request(reader)
        writer.write(head(200, "Content-Type: application/json", length=100 * 2**20))
        chunk = b" " * 65536
        for _ in range(1600):
            writer.write(chunk)
            await writer.drain()

    hostile.handler = handler

    def op(client: Any) -> Any:
        # Checked while the client is still open: closing it would drop the connection.
        if isinstance(client, ViksaSyncClient):
            with pytest.raises(ViksaResponseTooLargeError):
                usage(client)
            return hostile.dropped.wait(10)

        async def run() -> bool:
            with pytest.raises(ViksaResponseTooLargeError):
                await usage(client)
            released: bool = await asyncio.to_thread(hostile.dropped.wait, 10)
            return released

        return run()

    assert await call(transport, hostile.url, op, config=SMALL)


async def test_answers_within_the_cap_are_read(hostile: Any, transport: str) -> None:
    value = {"pad": "x" * 4000}
    hostile.handler = answering(json_answer(200, value))(hostile)
    assert await call(transport, hostile.url, usage, config=SMALL) == value


async def test_an_error_answer_over_the_cap_keeps_its_status_and_the_start(
    hostile: Any, transport: str
) -> None:
    hostile.handler = answering(answer(500, b"E" * 50_000, "Content-Type: text/plain"))(hostile)
    with pytest.raises(ViksaServerError) as caught:
        await call(transport, hostile.url, usage, config=SMALL)
    assert caught.value.body == "E" * 4096


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"data: " + b"x" * 5000, id="line-without-end"),
        pytest.param(b"data: 1\n\ndata: " + b"x" * 5000 + b"\n\n", id="one-large-event"),
        pytest.param(b"data: 1\n" * 1000, id="many-lines-one-event"),
    ],
)
async def test_stream_events_over_the_cap_end_with_a_typed_error(
    hostile: Any, transport: str, body: bytes
) -> None:
    hostile.handler = answering(head(200, "Content-Type: text/event-stream") + body)(hostile)
    with pytest.raises(ViksaResponseTooLargeError) as caught:
        await call(
            transport, hostile.url, collect(lambda c: c.chat.stream_execution("c1")), config=SMALL
        )
    assert caught.value.setting == "max_event_bytes"


def test_caps_must_be_positive() -> None:
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ViksaConfigError, match="max_answer_bytes"):
            ClientConfig(max_answer_bytes=bad)  # type: ignore[arg-type]
    with pytest.raises(ViksaConfigError, match="max_event_bytes"):
        ClientConfig(max_event_bytes=0)


# -- 7. readable failures -------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_a_refused_connection_names_the_url_and_what_to_check(transport: str) -> None:
    port = _closed_port()
    with pytest.raises(ViksaTransportError) as caught:
        await call(transport, f"http://127.0.0.1:{port}/base", usage)
    message = str(caught.value)
    assert f"could not connect to http://127.0.0.1:{port}" in message
    assert "check the base_url" in message
    assert caught.value.url == f"http://127.0.0.1:{port}"
    assert isinstance(caught.value.__cause__, httpx.TransportError)
    assert type(caught.value) is ViksaTransportError  # not a timeout, on every transport


async def test_a_base_url_with_user_info_is_refused_without_naming_it(transport: str) -> None:
    # httpx sent the user info as Basic auth in place of the key: every call a 401.
    port = _closed_port()
    with pytest.raises(ViksaConfigError) as caught:
        await call(transport, f"http://someone:hunter2@127.0.0.1:{port}/base", usage)
    assert f"got 'http://127.0.0.1:{port}/base'" in str(caught.value)
    for text in (str(caught.value), repr(caught.value)):
        assert "hunter2" not in text
        assert "someone" not in text


async def test_a_timeout_names_the_url(hostile: Any, transport: str) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await hostile.read_request(reader)
        await asyncio.sleep(5)

    hostile.handler = silent
    with pytest.raises(ViksaTimeoutError) as caught:
        await call(transport, hostile.url, usage, timeout=0.3)
    assert f"timed out waiting for {hostile.url}: " in str(caught.value)
    assert "raise the client's timeout" in str(caught.value)


async def test_errors_show_their_public_names(hostile: Any, transport: str) -> None:
    hostile.handler = answering(json_answer(404, {"detail": "Agent not found"}))(hostile)
    with pytest.raises(ViksaNotFoundError) as caught:
        await call(transport, hostile.url, lambda c: c.builder.agents.get("missing"))
    error = caught.value
    shown = "".join(traceback.format_exception_only(type(error), error))
    assert shown.startswith("viksa_ai.client.ViksaNotFoundError: builder GET")
    assert repr(type(error)) == "<class 'viksa_ai.client.ViksaNotFoundError'>"
    assert type(pickle.loads(pickle.dumps(error))) is ViksaNotFoundError


def test_every_public_error_class_names_its_public_home() -> None:
    import viksa_ai.client as public

    for name in public.__all__:
        value = getattr(public, name)
        if isinstance(value, type) and issubclass(value, (ViksaError, Warning)):
            assert value.__module__ == "viksa_ai.client", name


# -- review: more hostile answers, each on every transport ---------------------------


def _assert_typed_and_keyless(error: BaseException, expected: type[ViksaError]) -> None:
    assert type(error) is expected
    for text in (str(error), repr(error)):
        assert "host+ile" not in text
        assert TOKEN not in text


async def test_a_chunked_body_cut_mid_chunk_is_a_transport_error(
    hostile: Any, transport: str
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await hostile.read_request(reader)
        writer.write(
            head(200, "Content-Type: application/json", "Transfer-Encoding: chunked")
            + b'9\r\n{"a": 1, \r\n5\r\n"b"'  # the second chunk never ends
        )
        await writer.drain()
        writer.close()

    hostile.handler = handler
    with pytest.raises(ViksaError) as caught:
        await call(transport, hostile.url, usage, api_key=API_KEY, access_token=None)
    _assert_typed_and_keyless(caught.value, ViksaTransportError)
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize("encoding", ["br", "x-unknown", "zstd"])
async def test_an_encoding_the_client_cannot_read_is_a_decode_error(
    hostile: Any, transport: str, encoding: str
) -> None:
    hostile.handler = answering(
        answer(
            200,
            b"\x00\x01\xffnot json",
            "Content-Type: application/json",
            f"Content-Encoding: {encoding}",
        )
    )(hostile)
    with pytest.raises(ViksaError) as caught:
        await call(transport, hostile.url, usage, api_key=API_KEY, access_token=None)
    _assert_typed_and_keyless(caught.value, ViksaDecodeError)


async def test_a_redirect_to_another_host_is_not_followed(hostile: Any, transport: str) -> None:
    hostile.handler = answering(
        head(307, "Location: http://127.0.0.2:9/steal", length=0),
        json_answer(200, {"followed": True}),
    )(hostile)
    with pytest.raises(ViksaError) as caught:
        await call(transport, hostile.url, usage, api_key=API_KEY, access_token=None)
    assert getattr(caught.value, "status_code", None) == 307
    assert len(hostile.requests) == 1  # the key went nowhere else, not even back here
    for text in (str(caught.value), repr(caught.value)):
        assert "host+ile" not in text


def _busy_then_ok(server: Any, hint: str) -> Any:
    """A 503 with ``Retry-After: hint``, then a 200."""
    busy = json_answer(503, {"detail": "busy"}, f"Retry-After: {hint}")
    return answering(busy, json_answer(200, {"ok": 1}))(server)


@pytest.mark.parametrize(
    "hint",
    [
        "-5",
        "soon",
        "nan",
        "inf",
        "  ",
        "Wed, 21 Oct 1900 07:28:00 GMT",
        "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",  # a year past any C integer
    ],
)
async def test_a_meaningless_retry_after_falls_back_to_the_backoff(
    hostile: Any, transport: str, sleeps: list[float], hint: str
) -> None:
    hostile.handler = _busy_then_ok(hostile, hint)
    assert await call(transport, hostile.url, lambda c: c.auth.usage()) == {"ok": 1}
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= RetryConfig().max_delay


@pytest.mark.parametrize("hint", ["1e308", "99999999999999999999999"])
async def test_an_enormous_retry_after_fails_at_once(
    hostile: Any, transport: str, sleeps: list[float], hint: str
) -> None:
    hostile.handler = _busy_then_ok(hostile, hint)
    with pytest.raises(ViksaServerError):
        await call(transport, hostile.url, lambda c: c.auth.usage())
    assert len(hostile.requests) == 1
    assert sleeps == []


async def test_a_100_mb_stream_line_stops_at_a_small_cap(hostile: Any, transport: str) -> None:
    sent: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await hostile.read_request(reader)
        writer.write(head(200, "Content-Type: text/event-stream") + b"data: ")
        chunk = b"x" * 65536
        for _ in range(1600):  # 100 MiB if the client never stops reading
            writer.write(chunk)
            await writer.drain()
            sent.append(len(chunk))

    hostile.handler = handler
    with pytest.raises(ViksaResponseTooLargeError) as caught:
        await call(
            transport, hostile.url, collect(lambda c: c.chat.stream_execution("c1")), config=SMALL
        )
    assert caught.value.setting == "max_event_bytes"
    assert hostile.dropped.wait(30)
    assert sum(sent) < 100 * 2**20  # the client hung up long before the end
