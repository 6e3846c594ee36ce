"""The aiohttp-backed httpx client of ``http_backend="aiohttp"`` (extra ``[aiohttp]``).

Imported only when that backend is chosen. It is httpx-aiohttp's client with two
changes: aiohttp's own silent re-send of idempotent requests (GET, PUT, DELETE...) after
a dropped connection is turned off, so retries follow the SDK's policy on both
transports (a write without an idempotency key is never sent twice); and aiohttp keeps
no cookie jar of its own, since httpx already handles cookies.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import httpx
from aiohttp import ClientError, ClientSession, DummyCookieJar, TCPConnector
from httpx_aiohttp import AiohttpTransport, HttpxAiohttpClient

__all__ = ["AiohttpClient"]

_DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
CertTypes: TypeAlias = "str | tuple[str, str] | tuple[str, str, str]"


class _BodyStream(httpx.AsyncByteStream):
    """A response body whose aiohttp-only failures surface as httpx transport errors.

    So every failure reaches the SDK as it does from httpx's own transport, and the
    caller gets the same ``ViksaError`` on both.
    """

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except RuntimeError as exc:
            # aiohttp's "Connection closed." when the client closes under a read: the
            # SDK's callers expect a transport error here, as from httpx's own transport.
            raise httpx.ReadError(str(exc) or "the connection was closed") from exc
        except ClientError as exc:  # what httpx-aiohttp leaves unmapped
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Transport(AiohttpTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except ClientError as exc:
            # What httpx-aiohttp leaves unmapped: an answer aiohttp cannot parse (a bad
            # status line, an oversized header), as httpx's own transport reports it.
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from exc
        except ValueError as exc:
            # aiohttp refusing the request before sending it: nothing left this process.
            raise httpx.LocalProtocolError(str(exc)) from exc
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _BodyStream(response.stream)
        return response

    def get_client(self) -> ClientSession:
        connector = TCPConnector(
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
            limit=self.limits.max_connections or 0,  # 0: no limit, as httpx's None
        )
        # httpx keeps the cookies; a second jar in aiohttp would send them twice.
        session = ClientSession(connector=connector, cookie_jar=DummyCookieJar())
        # aiohttp has no public switch for it; the attribute exists since aiohttp 3.10.
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False
        return session


class AiohttpClient(HttpxAiohttpClient):
    """An ``httpx.AsyncClient`` whose requests travel over aiohttp."""

    def _init_transport(
        self,
        verify: ssl.SSLContext | str | bool = True,
        cert: CertTypes | None = None,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: httpx.Limits = _DEFAULT_LIMITS,
        transport: httpx.AsyncBaseTransport | None = None,
        **kwargs: Any,
    ) -> httpx.AsyncBaseTransport:
        if transport is not None:
            return transport
        return _Transport(
            verify=verify, cert=cert, trust_env=trust_env, http1=http1, http2=http2, limits=limits
        )

    def _init_proxy_transport(
        self,
        proxy: httpx.Proxy,
        verify: ssl.SSLContext | str | bool = True,
        cert: CertTypes | None = None,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: httpx.Limits = _DEFAULT_LIMITS,
        **kwargs: Any,
    ) -> httpx.AsyncBaseTransport:
        return _Transport(
            verify=verify,
            cert=cert,
            trust_env=trust_env,
            http1=http1,
            http2=http2,
            limits=limits,
            proxy=proxy,
        )
