"""Server-Sent Events answers: ``data: <json>`` events, ended by ``data: [DONE]``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import StreamingResponse

from viksa_ai.devtools._json import dumps_json

__all__ = ["DONE", "encode_event", "sse_response"]

DONE = "data: [DONE]\n\n"


def encode_event(event: Any) -> str:
    """One SSE event carrying ``event`` as JSON."""
    return f"data: {dumps_json(event)}\n\n"


def sse_response(events: AsyncIterator[Any]) -> StreamingResponse:
    """Stream ``events`` as SSE, then ``[DONE]``."""

    async def body() -> AsyncIterator[str]:
        async for event in events:
            yield encode_event(event)
        yield DONE

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
