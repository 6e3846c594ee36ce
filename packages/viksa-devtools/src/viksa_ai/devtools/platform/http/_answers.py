"""The platform's JSON answers: every body encoded by the shared :func:`dumps_json`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse
from starlette.types import Send

from viksa_ai.devtools._json import dumps_json

__all__ = ["JsonAnswer", "send_json"]


class JsonAnswer(JSONResponse):
    """A JSON answer encoded as ``viksa run`` prints results (a NaN result is ``null``).

    Starlette's own encoder refuses non-finite numbers with ``ValueError`` (a 500).
    """

    def render(self, content: Any) -> bytes:
        """``content`` as UTF-8 JSON."""
        return dumps_json(content).encode("utf-8")


async def send_json(
    send: Send, status: int, body: Any, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Answer ``body`` as JSON straight on ASGI ``send``, for middleware outside FastAPI."""
    raw = dumps_json(body).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})
