"""The SSE decoder (WHATWG rules) and the client's event streams."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import respx
from hypothesis import example, given, settings
from hypothesis import strategies as st

from viksa_ai.client import (
    AsyncEventStream,
    ServerSentEvent,
    ViksaClient,
    ViksaDecodeError,
    ViksaNotFoundError,
    ViksaResponseTooLargeError,
    ViksaSyncClient,
    ViksaTransportError,
)
from viksa_ai.client._decode import event_json
from viksa_ai.client._sse import SSEDecoder


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    return events


def test_data_lines_of_one_event_are_joined_with_newlines() -> None:
    assert decode(b"data: one\ndata: two\ndata:three\n\n") == [
        ServerSentEvent("message", "one\ntwo\nthree")
    ]


def test_fields_comments_and_unknown_lines() -> None:
    stream = (
        b": a comment\n"
        b"event: update\n"
        b"id: 7\n"
        b"retry: 1500\n"
        b"unknown: field\n"
        b'data: {"a": 1}\n\n'
        b"data: second\n\n"
    )
    assert decode(stream) == [
        ServerSentEvent("update", '{"a": 1}', "7", 1500),
        ServerSentEvent("message", "second", "7", None),  # the id persists, retry does not
    ]


def test_only_one_leading_space_is_dropped_and_bare_field_names_count() -> None:
    assert decode(b"data:  two spaces\n\ndata\n\n") == [
        ServerSentEvent("message", " two spaces"),
        ServerSentEvent("message", ""),
    ]


def test_blocks_without_data_dispatch_nothing() -> None:
    assert decode(b"event: ping\n\nid: 3\n\n: keepalive\n\n") == []
    # ... but the id they set is kept for the next event.
    assert decode(b"id: 3\n\ndata: x\n\n") == [ServerSentEvent("message", "x", "3")]


def test_invalid_id_and_retry_are_ignored() -> None:
    assert decode(b"id: a\x00b\nretry: 10s\ndata: x\n\n") == [ServerSentEvent("message", "x")]


def test_a_huge_event_type_is_cut_in_the_decode_error() -> None:
    # The type came whole into the message: up to max_event_bytes (16 MiB) of it.
    kind = "t" * 100_000
    with pytest.raises(ViksaDecodeError) as info:
        event_json(ServerSentEvent(kind, "not json"))
    assert len(str(info.value)) < 300
    assert info.value.event == kind[:100]
    assert info.value.raw == "not json"


def test_a_retry_too_long_for_an_integer_is_ignored() -> None:
    # int() refuses more than 4300 digits with a ValueError, which escaped the stream.
    huge = b"retry: " + b"9" * 5000 + b"\ndata: x\n\n"
    assert decode(huge) == [ServerSentEvent("message", "x")]
    assert SSEDecoder().feed_data(huge) == ["x"]
    # Leading zeros are not significant: this is 1500 ms.
    padded = b"retry: " + b"0" * 5000 + b"1500\ndata: x\n\n"
    assert decode(padded) == [ServerSentEvent("message", "x", None, 1500)]


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_every_line_ending(eol: bytes) -> None:
    stream = b"event: e" + eol + b"data: 1" + eol + b"data: 2" + eol + eol
    assert decode(stream) == [ServerSentEvent("e", "1\n2")]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    assert decode(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n") == [
        ServerSentEvent("message", "a\nb")
    ]


def test_lone_cr_at_chunk_end_then_data() -> None:
    assert decode(b"data: a\r", b"\r", b"data: b\r\r") == [
        ServerSentEvent("message", "a"),
        ServerSentEvent("message", "b"),
    ]


def test_leading_bom_is_dropped_even_when_split() -> None:
    assert decode(b"\xef", b"\xbb", b"\xbfdata: x\n\n") == [ServerSentEvent("message", "x")]
    # A BOM later in the stream is data, not a marker.
    assert decode(b"data: x\n\n\xef\xbb\xbfdata: y\n\n") == [ServerSentEvent("message", "x")]


def test_multibyte_characters_split_across_chunks() -> None:
    payload = "data: café ✈\n\n".encode()
    assert decode(payload[:9], payload[9:12], payload[12:]) == [
        ServerSentEvent("message", "café ✈")
    ]


def test_unfinished_event_at_the_end_is_discarded() -> None:
    assert decode(b"data: complete\n\ndata: cut") == [ServerSentEvent("message", "complete")]


# -- properties ------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\x00"),
    max_size=20,
)
# (data lines, event type, id, comment) of one event
_EVENT = st.tuples(
    st.lists(_TEXT, min_size=1, max_size=3),
    st.none() | _TEXT.filter(lambda s: s.strip() == s and s != ""),
    st.none() | _TEXT,
    st.none() | _TEXT,
)


def _reference(text: str) -> list[ServerSentEvent]:
    """A direct, line-at-a-time reading of the WHATWG algorithm, over the whole text."""
    text = text.removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    lines.pop()  # what follows the last line end is an unfinished line
    events: list[ServerSentEvent] = []
    data: list[str] = []
    event_type, last_id = "", None
    for line in lines:
        if line == "":
            if data:
                events.append(ServerSentEvent(event_type or "message", "\n".join(data), last_id))
            data, event_type = [], ""
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event_type = value
        elif name == "id" and "\x00" not in value:
            last_id = value
    return events


@st.composite
def _streams(draw: st.DrawFn) -> bytes:
    events = draw(st.lists(_EVENT, max_size=6))
    eol = draw(st.sampled_from(["\n", "\r", "\r\n"]))
    parts = ["\ufeff"] if draw(st.booleans()) else []
    for data, event_type, event_id, comment in events:
        if comment is not None:
            parts.append(":" + comment + eol)
        if event_type is not None:
            parts.append("event: " + event_type + eol)
        if event_id is not None:
            parts.append("id: " + event_id + eol)
        parts.extend("data: " + line + eol for line in data)
        parts.append(eol)
    return "".join(parts).encode()


@st.composite
def _splits(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    stream = draw(_streams())
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    bounds = [0, *cuts, len(stream)]
    return stream, [stream[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=300)
@given(_splits())
def test_any_split_into_chunks_gives_the_same_events(split: tuple[bytes, list[bytes]]) -> None:
    stream, chunks = split
    whole = decode(stream)
    assert decode(*chunks) == whole
    assert whole == _reference(stream.decode())
    # The data-only reading used by the JSON streams sees the same events.
    decoder = SSEDecoder()
    data = [item for chunk in chunks for item in decoder.feed_data(chunk)]
    assert data == [e.data if e.event == "message" or e.data == "[DONE]" else e for e in whole]


@given(st.lists(st.binary(max_size=30), max_size=8))
def test_arbitrary_bytes_never_raise(chunks: list[bytes]) -> None:
    for event in decode(*chunks):
        assert isinstance(event.data, str)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@given(
    st.one_of(
        _JSON.map(json.dumps),
        st.tuples(
            st.sampled_from(["", " ", "\t", "\n "]), _JSON.map(json.dumps), st.text(max_size=4)
        ).map("".join),
        st.text(max_size=30),
    )
)
@example("NaN")  # a bare NaN is not equal to itself: compared as JSON text
def test_event_json_agrees_with_json_loads(text: str) -> None:
    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(ViksaDecodeError) as info:
            event_json(text)
        assert info.value.raw == text
    else:
        # Compared as JSON text: NaN (which json.loads reads) is not equal to itself.
        assert json.dumps(event_json(text)) == json.dumps(expected)
        assert json.dumps(event_json(ServerSentEvent("update", text))) == json.dumps(expected)


def test_feed_data_keeps_event_types_for_errors() -> None:
    decoder = SSEDecoder()
    items = decoder.feed_data(b"data: 1\n\nevent: tick\ndata: 2\n\nid: 9\ndata: 3\n\n")
    assert items == ["1", ServerSentEvent("tick", "2"), "3"]
    with pytest.raises(ViksaDecodeError) as info:
        event_json(ServerSentEvent("tick", "not json"))
    assert info.value.event == "tick"
    assert decoder.feed(b"data: 4\n\n") == [ServerSentEvent("message", "4", "9")]


# -- streams of the client ---------------------------------------------------------------

SSE = (
    b'data: {"step": 1}\n\n'
    b'event: progress\nid: 2\ndata: {"step": 2}\n\n'
    b"data: [DONE]\n\n"
    b'data: {"after": 1}\n\n'
)


async def _collect(stream: AsyncEventStream[Any], into: list[Any]) -> None:
    async for event in stream:
        into.append(event)


async def test_stream_yields_json_until_done(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.post("/chat/indent_finder/stream").respond(200, content=SSE)
    client = make_client()
    stream = client.chat.stream_indent_finder("Find my last deployment")
    events = [dict(event) async for event in stream]
    assert events == [{"step": 1}, {"step": 2}]


async def test_typed_events_are_available(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.post("/chat/trigger/t1/test").respond(200, content=SSE)
    client = make_client()
    stream = client.chat.triggers.test("t1")
    events = [event async for event in stream.events()]
    assert events == [
        ServerSentEvent("message", '{"step": 1}'),
        ServerSentEvent("progress", '{"step": 2}', "2"),
    ]
    assert stream.response is not None
    assert stream.response.status_code == 200
    with pytest.raises(RuntimeError, match="only once"):
        async for _ in stream.events():
            pass


async def test_chunks_split_anywhere_through_the_client(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    chunked: Callable[..., httpx.SyncByteStream],
) -> None:
    body = b'data: {"a":\r\ndata: 1}\r\n\r\ndata: [DONE]\r\n\r\n'
    pieces = [body[i : i + 3] for i in range(0, len(body), 3)]
    api.get("/chat/execution/c1/stream").mock(
        return_value=httpx.Response(200, stream=chunked(pieces))
    )
    client = make_client()
    assert [dict(event) async for event in client.chat.stream_execution("c1")] == [{"a": 1}]


async def test_non_json_data_raises_with_the_raw_text(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/chat/execution/c1/stream").respond(200, content=b'data: {"ok": 1}\n\ndata: oops\n\n')
    client = make_client()
    seen: list[Any] = []
    with pytest.raises(ViksaDecodeError) as info:
        await _collect(client.chat.stream_execution("c1"), seen)
    assert seen == [{"ok": 1}]
    assert info.value.raw == "oops"
    assert info.value.event == "message"


async def test_broken_stream_raises_transport_error(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    chunked: Callable[..., httpx.SyncByteStream],
) -> None:
    stream = chunked([b'data: {"n": 1}\n\n', b'data: {"n": 2}\n\n'], fail=httpx.ReadError("reset"))
    api.get("/chat/execution/c1/stream").mock(return_value=httpx.Response(200, stream=stream))
    client = make_client()
    seen: list[Any] = []
    with pytest.raises(ViksaTransportError, match="broke before it ended") as info:
        await _collect(client.chat.stream_execution("c1"), seen)
    assert seen == [{"n": 1}, {"n": 2}]
    assert info.value.service == "chat"


class _HeldStream(httpx.AsyncByteStream):
    """One event, then the body is held open until ``released`` is set (from any thread)."""

    def __init__(self, released: threading.Event) -> None:
        self.released = released

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'data: {"n": 1}\n\n'
        await asyncio.get_running_loop().run_in_executor(None, self.released.wait, 60)


async def test_closing_the_aiohttp_client_mid_stream_raises_a_transport_error(
    api: respx.MockRouter, bridge: Any
) -> None:
    released = threading.Event()
    api.get("/chat/execution/c1/stream").mock(
        return_value=httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_HeldStream(released)
        )
    )
    client = ViksaClient("tok", base_url=bridge.url, http_backend="aiohttp")
    seen: list[Any] = []

    async def read_then_close() -> None:
        async with client.chat.stream_execution("c1") as stream:
            async for item in stream:
                seen.append(item)
                await client.aclose()

    try:
        # Not aiohttp's bare RuntimeError("Connection closed.").
        with pytest.raises(ViksaTransportError, match="broke before it ended"):
            await read_then_close()
    finally:
        released.set()
        await client.aclose()
    assert seen == [{"n": 1}]


async def test_error_status_on_a_stream_raises_the_typed_error(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/chat/execution/c1/stream").respond(404, json={"detail": "no execution"})
    client = make_client()
    with pytest.raises(ViksaNotFoundError, match="no execution"):
        async for _ in client.chat.stream_execution("c1"):
            pass


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"detail": "streaming is off", "echo": "tok-access-1"}'),
        ("text/html; charset=utf-8", b"<html>proxy login tok-access-1</html>" + b"x" * 5000),
    ],
)
async def test_a_success_that_is_not_an_event_stream_raises(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    content_type: str,
    body: bytes,
) -> None:
    # Read as events, such a body holds none: the stream would end empty and silent.
    headers = {"content-type": content_type}
    api.get("/chat/execution/c1/stream").respond(200, content=body, headers=headers)
    client = make_client()
    stream = client.chat.stream_execution("c1")
    with pytest.raises(ViksaDecodeError) as info:
        async for _ in stream:
            pass
    media_type = content_type.split(";")[0]
    message = str(info.value)
    assert "chat GET /chat/execution/c1/stream" in message
    assert f"answered 200 with '{media_type}'" in message
    assert "text/event-stream" in message
    raw = info.value.raw
    assert raw.startswith(body[:12].decode())  # the start of the body, for diagnosis
    assert len(raw) <= 2000
    assert "tok-access-1" not in raw + message  # secrets scrubbed as in other decode errors
    with pytest.raises(ViksaDecodeError, match=media_type):
        async with client.chat.stream_execution("c1"):
            pass


@pytest.mark.parametrize(
    "headers",
    [{"content-type": "text/event-stream; charset=utf-8"}, {"Content-Type": "TEXT/EVENT-STREAM"}],
)
async def test_event_stream_content_types_are_read(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], headers: dict[str, str]
) -> None:
    api.get("/chat/execution/c1/stream").respond(200, content=SSE, headers=headers)
    client = make_client()
    assert [dict(e) async for e in client.chat.stream_execution("c1")] == [
        {"step": 1},
        {"step": 2},
    ]


def test_sync_stream_that_is_not_an_event_stream_raises(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    api.post("/chat/webhook/trigger/t1/stream").respond(200, json={"queued": True})
    with (
        ViksaSyncClient.webhook("t1", base_url="https://api.viksa.test") as webhook,
        pytest.raises(ViksaDecodeError, match="answered 200 with 'application/json'") as info,
    ):
        list(webhook.stream({"x": 1}))
    assert info.value.raw == '{"queued":true}'


async def test_stream_as_context_manager_releases_early(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/chat/execution/c1/stream").respond(200, content=SSE)
    client = make_client()
    async with client.chat.stream_execution("c1") as stream:
        assert stream.response is not None
        async for event in stream:
            assert dict(event) == {"step": 1}
            break
    assert stream.response.is_closed


async def test_iter_sse_lines_on_a_custom_response(api: respx.MockRouter, base_url: str) -> None:
    api.get("/custom/stream").respond(200, content=SSE)
    async with (
        httpx.AsyncClient() as http,
        http.stream("GET", "https://api.viksa.test/custom/stream") as response,
    ):
        events = [event async for event in ViksaClient.iter_sse_lines(response)]
    assert events == [{"step": 1}, {"step": 2}]


def test_sync_stream_and_iter_sse_lines(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    api.post("/chat/indent_finder/stream").respond(200, content=SSE)
    client = make_sync_client()
    with client.chat.stream_indent_finder("hi") as stream:
        assert [dict(e) for e in stream] == [{"step": 1}, {"step": 2}]
    api.get("/custom/stream").respond(200, content=SSE)
    with (
        httpx.Client() as http,
        http.stream("GET", "https://api.viksa.test/custom/stream") as response,
    ):
        assert list(ViksaSyncClient.iter_sse_lines(response)) == [{"step": 1}, {"step": 2}]


@settings(max_examples=300, database=None, derandomize=True)
@given(_splits(), st.integers(1, 60))
def test_a_capped_decoder_gives_the_same_events_or_the_typed_error(
    split: tuple[bytes, list[bytes]], limit: int
) -> None:
    # Events within the cap decode as without one; an event (or an unfinished rest)
    # over it raises ViksaResponseTooLargeError, never another error.
    stream, chunks = split
    decoder = SSEDecoder(limit)
    caught: ViksaResponseTooLargeError | None = None
    events: list[ServerSentEvent] = []
    try:
        for chunk in chunks:
            events.extend(decoder.feed(chunk))
    except ViksaResponseTooLargeError as exc:
        caught = exc
    if caught is None:
        assert events == decode(stream)
    else:
        assert len(stream) > limit  # a stream shorter than the cap is never refused
        assert (caught.limit, caught.setting) == (limit, "max_event_bytes")
