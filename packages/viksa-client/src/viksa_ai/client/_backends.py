"""What differs between the async client and its sync twin besides ``await``.

The generated sync code calls the ``sync_`` / ``Sync`` names where the async source
calls the ``async_`` / ``Async`` ones. Tests patch ``async_sleep`` / ``sync_sleep`` here.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import httpx

from viksa_ai.client._config import HttpBackend
from viksa_ai.client._errors import ViksaConfigError

if TYPE_CHECKING:
    import asyncio
    import ssl

__all__ = [
    "AsyncLock",
    "SyncLock",
    "async_sleep",
    "make_async_http_client",
    "make_sync_http_client",
    "sync_sleep",
]


async def async_sleep(seconds: float) -> None:
    """Wait without blocking the event loop."""
    import asyncio

    await asyncio.sleep(seconds)


def sync_sleep(seconds: float) -> None:
    """Wait, blocking this thread."""
    time.sleep(seconds)


class AsyncLock:
    """An ``asyncio.Lock`` made on first use, so building a client needs no event loop."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None

    async def __aenter__(self) -> None:
        if self._lock is None:
            import asyncio

            self._lock = asyncio.Lock()
        await self._lock.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._lock is not None
        self._lock.release()


class SyncLock:
    """A ``threading.Lock`` with the same shape as ``AsyncLock``."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
_ssl_context: ssl.SSLContext | None = None


def _verify() -> ssl.SSLContext:
    """One default TLS context for every client: loading the CA bundle costs ~30 ms."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


def make_async_http_client(
    backend: HttpBackend, timeout: httpx.Timeout, headers: dict[str, str]
) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` a client builds for itself (and closes).

    It carries the client's timeout and static headers, so requests need not repeat them.
    """
    if backend == "aiohttp":
        try:
            from viksa_ai.client._aiohttp import AiohttpClient
        except ImportError:
            raise ViksaConfigError(
                "http_backend='aiohttp' needs the aiohttp extra: "
                "pip install 'viksa-client[aiohttp]'"
            ) from None
        return AiohttpClient(timeout=timeout, headers=headers, limits=_LIMITS, verify=_verify())
    return httpx.AsyncClient(timeout=timeout, headers=headers, limits=_LIMITS, verify=_verify())


def make_sync_http_client(
    backend: HttpBackend, timeout: httpx.Timeout, headers: dict[str, str]
) -> httpx.Client:
    """The ``httpx.Client`` a sync client builds for itself (and closes)."""
    if backend == "aiohttp":
        raise ViksaConfigError(
            "http_backend='aiohttp' is async only: use ViksaClient, or http_backend='httpx'"
        )
    return httpx.Client(timeout=timeout, headers=headers, limits=_LIMITS, verify=_verify())
