"""Event streams: Server-Sent Events of a response, as typed events or JSON values."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from viksa_ai.client._config import DEFAULT_MAX_EVENT_BYTES
from viksa_ai.client._decode import event_json
from viksa_ai.client._errors import ViksaDecodeError, ViksaTimeoutError, ViksaTransportError
from viksa_ai.client._pipeline import scrub_secrets, undecodable_stream
from viksa_ai.client._retry import is_timeout
from viksa_ai.client._sse import DONE, ServerSentEvent, SSEDecoder

if TYPE_CHECKING:
    from viksa_ai.client._async._client import ViksaClient
    from viksa_ai.client._call import Call
    from viksa_ai.client._config import RequestOptions

__all__ = ["AsyncEventStream", "iter_json"]

T = TypeVar("T")


def _broken(
    response: httpx.Response, exc: httpx.TransportError, service: str | None
) -> ViksaTransportError:
    try:
        method, path = response.request.method, response.request.url.path
    except RuntimeError:  # a response built without a request
        method, path = None, None
    cls = ViksaTimeoutError if is_timeout(exc) else ViksaTransportError
    reason = str(exc) or type(exc).__name__
    return cls(
        f"the event stream broke before it ended: {reason}",
        method=method,
        path=path,
        service=service,
    )


async def _batches(
    response: httpx.Response, service: str | None, max_event_bytes: int
) -> AsyncIterator[list[ServerSentEvent]]:
    """The events of each network chunk, until ``[DONE]`` or the end of the body.

    Iterating per chunk rather than per event keeps the generator machinery off
    each event. A connection that breaks mid-stream raises ``ViksaTransportError``, a
    body its Content-Encoding cannot decode ``ViksaDecodeError``, and an event over
    ``max_event_bytes`` ``ViksaResponseTooLargeError``.
    """
    decoder = SSEDecoder(max_event_bytes)
    try:
        async for chunk in response.aiter_bytes():
            events = decoder.feed(chunk)
            if not events:
                continue
            for index, event in enumerate(events):
                if event.data == DONE:
                    yield events[:index]
                    return
            yield events
    except httpx.TransportError as exc:
        raise _broken(response, exc, service) from exc
    except httpx.DecodingError as exc:
        raise undecodable_stream(exc) from exc


async def _data_batches(
    response: httpx.Response, service: str | None, max_event_bytes: int
) -> AsyncIterator[list[str | ServerSentEvent]]:
    """Like ``_batches`` with ``SSEDecoder.feed_data``: the data strings of events."""
    decoder = SSEDecoder(max_event_bytes)
    try:
        async for chunk in response.aiter_bytes():
            items = decoder.feed_data(chunk)
            if not items:
                continue
            if DONE in items:
                yield items[: items.index(DONE)]
                return
            yield items
    except httpx.TransportError as exc:
        raise _broken(response, exc, service) from exc
    except httpx.DecodingError as exc:
        raise undecodable_stream(exc) from exc


async def iter_json(response: httpx.Response, *, service: str | None = None) -> AsyncIterator[Any]:
    """The JSON value of each event of a streaming response, until ``[DONE]``.

    Data that is not JSON raises ``ViksaDecodeError`` holding the raw text; an event
    over ``DEFAULT_MAX_EVENT_BYTES`` (16 MiB) raises ``ViksaResponseTooLargeError``.
    """
    async for batch in _data_batches(response, service, DEFAULT_MAX_EVENT_BYTES):
        for item in batch:
            yield event_json(item)


class AsyncEventStream(Generic[T]):
    """A stream of platform events, opened on first iteration.

    Iterate it for the JSON value of each event (``async for item in stream``), typed
    ``T`` (``StreamEvent`` for the platform's streams: a plain dict at run time), or
    ``stream.events()`` for typed ``ServerSentEvent`` objects. Use it as a context
    manager (or call ``aclose()``) to release the connection if you stop early.
    ``response`` is the raw ``httpx.Response`` once the stream is open.
    """

    def __init__(self, client: ViksaClient, call: Call[T], options: RequestOptions | None) -> None:
        self._client = client
        self._call = call
        self._options = options
        self._response: httpx.Response | None = None
        self._started = False

    @property
    def _max_event(self) -> int:
        return self._client._settings.config.max_event_bytes

    @property
    def response(self) -> httpx.Response:
        """The raw response (status, headers, request id) once the stream is open.

        ``RuntimeError`` before that: enter ``async with`` or start iterating first.
        """
        if self._response is None:
            raise RuntimeError(
                "the event stream is not open yet: use `async with stream:` or start "
                "iterating it before reading `stream.response`"
            )
        return self._response

    async def _open(self) -> httpx.Response:
        if self._response is None:
            self._response = await self._client._open_stream(self._call, self._options)
        return self._response

    async def events(self) -> AsyncIterator[ServerSentEvent]:
        """The typed events (event, data, id, retry) until ``[DONE]``; iterate once."""
        response = await self._start()
        try:
            async for batch in _batches(response, self._call.service.name, self._max_event):
                for event in batch:
                    yield event
        finally:
            await response.aclose()

    async def _json(self) -> AsyncIterator[T]:
        response = await self._start()
        try:
            async for batch in _data_batches(response, self._call.service.name, self._max_event):
                for item in batch:
                    try:
                        value = event_json(item)
                    except ViksaDecodeError as exc:
                        exc.raw = scrub_secrets(exc.raw, self._call, self._client._settings)
                        raise
                    yield value
        finally:
            await response.aclose()

    async def _start(self) -> httpx.Response:
        if self._started:
            raise RuntimeError("an event stream can be iterated only once")
        self._started = True
        return await self._open()

    def __aiter__(self) -> AsyncIterator[T]:
        return self._json()

    async def aclose(self) -> None:
        """Release the connection (safe to call at any time, more than once)."""
        if self._response is not None:
            await self._response.aclose()

    async def __aenter__(self) -> AsyncEventStream[T]:
        await self._open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._call.method} {self._call.shown_target()})"
