"""Request bodies: JSON objects, checked against the wire models of viksa-models.

Routes take bodies as plain JSON objects and check them here rather than declaring
the models as FastAPI parameters: the wire models build their schemas lazily
(``defer_build``), which FastAPI's parameter machinery warns about.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Body, HTTPException, Request

from viksa_ai.devtools.platform.services._validation import parse_body, required_id

__all__ = ["JsonBody", "OptionalJsonBody", "json_object", "parse_body", "required_id"]

JsonBody = Annotated[dict[str, Any], Body()]
"""A required JSON object body."""
OptionalJsonBody = Annotated[dict[str, Any] | None, Body()]
"""A JSON object body that may be left out."""


async def json_object(request: Request) -> dict[str, Any] | None:
    """The body when it is a JSON object sent as ``application/json``, else None.

    None also when the body is not JSON: FastAPI's handler, given the same request
    (which keeps the body it read), then answers as for a ``JsonBody`` parameter. A
    body that cannot be read answers as FastAPI answers it: the ``HTTPException`` as
    it is (413 over the cap, 422 for JSON the platform refuses), anything else 400.
    """
    content_type = request.headers.get("content-type", "")
    if content_type.partition(";")[0].strip().lower() != "application/json":
        return None
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return None  # read in full: FastAPI's 422 names the position
    except HTTPException:
        raise
    except Exception as exc:
        # Not read in full (a client gone mid-body): reading again could wait forever.
        raise HTTPException(400, "There was an error parsing the body") from exc
    return body if isinstance(body, dict) else None
