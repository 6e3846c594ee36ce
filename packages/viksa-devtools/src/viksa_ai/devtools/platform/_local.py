"""The platform in-process: an app, working credentials and clients bound to it.

No socket is opened: clients talk to the ASGI app through ``httpx.ASGITransport``
(async), or through :class:`SyncASGITransport`, which runs the app on an event loop
in a thread of its own (sync).
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from fastapi import FastAPI

from viksa_ai.devtools._loop_thread import LoopThread
from viksa_ai.devtools.platform._config import DEFAULT_PORT, PlatformConfig
from viksa_ai.devtools.platform._platform import Platform, SeededCredentials
from viksa_ai.devtools.platform.http._app import create_app

if TYPE_CHECKING:
    from viksa_ai.client import ViksaClient, ViksaSyncClient

__all__ = ["LocalPlatform", "SyncASGITransport"]

_T = TypeVar("_T")
# Nominal: no socket listens there, but a loopback http URL is what the client expects
# of a local platform (it warns about credentials over plain http elsewhere).
_BASE_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
# How long closing the transport lets requests still being served finish.
_CLOSE_GRACE_SECONDS = 5.0


class SyncASGITransport(httpx.BaseTransport):
    """A sync httpx transport serving requests from an ASGI app on a private loop thread."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._portal = LoopThread(
            "viksa-platform-loop",
            close_grace=_CLOSE_GRACE_SECONDS,
            closed_error=lambda: RuntimeError("this transport is closed: create a new one"),
        )

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coroutine`` on the app's loop and return its result."""
        return self._portal.run(coroutine)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve one request from the app; the body is read whole."""
        content = request.read()

        async def serve() -> httpx.Response:
            inner = httpx.Request(
                request.method, request.url, headers=request.headers, content=content
            )
            response = await self._asgi.handle_async_request(inner)
            body = await response.aread()
            await response.aclose()
            return httpx.Response(
                response.status_code, headers=response.headers, content=body, request=request
            )

        return self.run(serve())

    def close(self) -> None:
        """Stop the loop thread (requests still being served finish first)."""
        self._portal.stop()


@dataclass
class LocalPlatform:
    """A seeded platform app, ready for in-process clients.

    ``credentials`` work as printed by ``viksa dev``; ``base_url`` is nominal.
    """

    platform: Platform
    app: FastAPI
    credentials: SeededCredentials
    base_url: str = _BASE_URL

    @classmethod
    def start(cls, config: PlatformConfig | None = None) -> LocalPlatform:
        """A fresh platform (in memory unless ``config`` says otherwise), seeded."""
        platform = Platform(config or PlatformConfig())
        credentials = platform.seed()
        return cls(platform=platform, app=create_app(platform=platform), credentials=credentials)

    def _client_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        defaults: dict[str, Any] = {
            "org_id": self.credentials.org_id,
            "project_id": self.credentials.project_id,
            "base_url": self.base_url,
        }
        if "access_token" not in kwargs:
            defaults["api_key"] = self.credentials.api_key
        return {**defaults, **kwargs}

    def async_client(self, **kwargs: Any) -> ViksaClient:
        """A ViksaClient (API key of the seeded user by default) bound to this app."""
        from viksa_ai.client import ViksaClient

        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), timeout=60)
        return ViksaClient(http_client=http, **self._client_kwargs(kwargs))

    def sync_client(self, transport: SyncASGITransport, **kwargs: Any) -> ViksaSyncClient:
        """A ViksaSyncClient bound to this app through ``transport``."""
        from viksa_ai.client import ViksaSyncClient

        http = httpx.Client(transport=transport, timeout=60)
        return ViksaSyncClient(http_client=http, **self._client_kwargs(kwargs))

    async def aclose(self) -> None:
        """Stop the platform's workers and release its database."""
        await self.platform.aclose()
