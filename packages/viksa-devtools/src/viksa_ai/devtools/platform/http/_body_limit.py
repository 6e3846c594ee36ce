"""A cap on request bodies: 413 above ``PlatformConfig.max_body_bytes`` (10 MiB by default).

A body announced larger (``Content-Length``) is refused before a byte of it is read;
one that grows past the cap while streaming (chunked) is cut off there. Either way the
answer is 413 ``body_too_large`` naming the cap and the ``viksa dev`` flag that moves it.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from viksa_ai.devtools.platform.http._answers import send_json

__all__ = ["BodyLimitMiddleware", "BodyTooLargeError"]


class BodyTooLargeError(HTTPException):
    """413: the request body is over the cap.

    An HTTPException so that FastAPI, reading the body when it is raised, answers it
    as such instead of a generic 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, _detail(limit))


def _detail(limit: int) -> dict[str, Any]:
    return {
        "message": f"The request body is larger than {limit:,} bytes, the local platform's "
        "limit: send less, or start viksa dev with a larger --max-body-mb.",
        "code": "body_too_large",
    }


class BodyLimitMiddleware:
    """ASGI middleware refusing request bodies over ``max_bytes`` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await send_json(send, 413, {"detail": _detail(self.max_bytes)})
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLargeError:
            # Raised where no FastAPI handler answers it (a middleware reading the body).
            if started:
                raise
            await send_json(send, 413, {"detail": _detail(self.max_bytes)})
