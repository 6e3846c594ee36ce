"""Every answer carries ``X-Request-Id``: the caller's own, or a fresh one."""

from __future__ import annotations

import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from viksa_ai.devtools.platform.http._headers import first_headers

__all__ = ["REQUEST_ID_STATE", "RequestIdMiddleware"]

REQUEST_ID_STATE = "request_id"
"""The name of the request's id in ``request.state``."""

_SAFE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


class RequestIdMiddleware:
    """ASGI middleware echoing a well-formed ``X-Request-Id`` or making one up."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = first_headers(scope).get(b"x-request-id", b"")
        request_id = given if _SAFE.fullmatch(given) else f"req_{secrets.token_hex(8)}".encode()
        # Kept in the request's state: a 500 is answered outside this middleware, by the
        # error handler, which adds the id from there.
        scope.setdefault("state", {})[REQUEST_ID_STATE] = request_id.decode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id)]}
            await send(message)

        await self.app(scope, receive, send_with_id)
