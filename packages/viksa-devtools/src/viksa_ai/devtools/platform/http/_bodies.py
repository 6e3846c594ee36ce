"""Request bodies: JSON objects, checked against the wire models of viksa-models.

Routes take bodies as plain JSON objects and check them here rather than declaring
the models as FastAPI parameters: the wire models build their schemas lazily
(``defer_build``), which FastAPI's parameter machinery warns about.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Request

from viksa_ai.devtools.platform.services._validation import parse_body, required_id

__all__ = ["JsonBody", "OptionalJsonBody", "json_object", "parse_body", "required_id"]

JsonBody = Annotated[dict[str, Any], Body()]
"""A required JSON object body."""
OptionalJsonBody = Annotated[dict[str, Any] | None, Body()]
"""A JSON object body that may be left out."""


async def json_object(request: Request) -> dict[str, Any] | None:
    """The body when it is a JSON object sent as ``application/json``, else None.

    None also when the body cannot be decoded: FastAPI's handler, reading it again from
    the same request, then answers as for a ``JsonBody`` parameter.
    """
    content_type = request.headers.get("content-type", "")
    if content_type.partition(";")[0].strip().lower() != "application/json":
        return None
    try:
        body = await request.json()
    except Exception:  # FastAPI answers it: 422 naming the position, or 400
        return None
    return body if isinstance(body, dict) else None
