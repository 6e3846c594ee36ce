"""Caps on request bodies: their size and the time they take to arrive.

Size: 413 above ``PlatformConfig.max_body_bytes`` (10 MiB by default). A body announced
larger (``Content-Length``) is refused before a byte of it is read; one that grows past
the cap while streaming (chunked) is cut off there. Either way the answer is 413
``body_too_large`` naming the cap and the ``viksa dev`` flag that moves it.

Time: the whole body must arrive within ``PlatformConfig.body_timeout`` seconds (30 by
default) of the application first asking for it. uvicorn's header deadline (see
``_slow_clients``) ends once the headers are complete; a client that then trickles its
body, or stops sending it, would hold the request (and its connection) forever. When
the time runs out the answer is 408 ``body_timeout`` with ``Connection: close``, and the
connection is closed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from viksa_ai.devtools.platform.http._answers import send_json
from viksa_ai.devtools.platform.http._headers import first_headers

__all__ = ["BodyLimitMiddleware", "BodyTimeoutError", "BodyTooLargeError"]

_CLOSE = (b"connection", b"close")
_T = TypeVar("_T")

if sys.version_info >= (3, 11):

    async def _within(awaitable: Awaitable[_T], seconds: float) -> _T:
        # A timer on the current task: asyncio.wait_for (until 3.12) runs the awaitable
        # in a task of its own, two more turns of the event loop for every body read.
        async with asyncio.timeout(seconds):
            return await awaitable

else:
    _within = asyncio.wait_for


class BodyTooLargeError(HTTPException):
    """413: the request body is over the cap.

    An HTTPException so that FastAPI, reading the body when it is raised, answers it
    as such instead of a generic 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, _detail(limit))


class BodyTimeoutError(HTTPException):
    """408: the request body did not arrive in time; the connection is closed after it."""

    def __init__(self, timeout: float) -> None:
        super().__init__(408, _timeout_detail(timeout), headers={"Connection": "close"})


def _timeout_detail(timeout: float) -> dict[str, Any]:
    return {
        "message": f"The request body did not arrive within {timeout:g} seconds, the local "
        "platform's limit: send it at once, or start viksa dev with a larger --body-timeout.",
        "code": "body_timeout",
    }


def _detail(limit: int) -> dict[str, Any]:
    return {
        "message": f"The request body is larger than {limit:,} bytes, the local platform's "
        "limit: send less, or start viksa dev with a larger --max-body-mb.",
        "code": "body_too_large",
    }


class BodyLimitMiddleware:
    """ASGI middleware refusing request bodies over ``max_bytes`` with 413, and bodies
    not received within ``timeout`` seconds with 408."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = first_headers(scope).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await send_json(send, 413, {"detail": _detail(self.max_bytes)})
            return
        received = 0
        started = False
        deadline: float | None = None
        complete = False

        async def limited_receive() -> Message:
            nonlocal received, deadline, complete
            if complete:
                # The body is in: what is left to wait for is the client going away.
                return await receive()
            if deadline is None:
                deadline = time.monotonic() + self.timeout
            try:
                left = deadline - time.monotonic()
                if left <= 0:  # as wait_for: past the deadline, even a ready part is late
                    raise asyncio.TimeoutError
                message = await _within(receive(), left)
            except asyncio.TimeoutError:
                raise BodyTimeoutError(self.timeout) from None
            if message["type"] == "http.request":
                complete = not message.get("more_body", False)
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
        except BodyTimeoutError:
            if started:
                raise
            await send_json(send, 408, {"detail": _timeout_detail(self.timeout)}, [_CLOSE])
