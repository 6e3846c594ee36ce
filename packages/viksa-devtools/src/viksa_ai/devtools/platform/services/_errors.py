"""The one way the platform fails a request: FastAPI's ``{"detail": ...}`` shapes.

Handlers raise these helpers' exceptions; FastAPI renders them. ``detail`` is a string
for plain failures, an object ``{"message", "code", "field"}`` where a machine-readable
code helps, and a list of ``{"loc", "msg", "type"}`` items for 422.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import HTTPException

__all__ = [
    "bad_request",
    "conflict",
    "detail_item",
    "forbidden",
    "not_found",
    "unauthorized",
    "unprocessable",
]

_BEARER = {"WWW-Authenticate": "Bearer"}


def _coded(message: str, code: str | None, field: str | None) -> str | dict[str, Any]:
    if code is None and field is None:
        return message
    return {"message": message, "code": code, "field": field}


def unauthorized(message: str, *, code: str = "not_authenticated") -> HTTPException:
    """401 with a ``WWW-Authenticate: Bearer`` challenge."""
    return HTTPException(401, _coded(message, code, None), headers=_BEARER)


def forbidden(message: str, *, code: str = "forbidden") -> HTTPException:
    """403: the caller is known but may not touch this tenant or resource."""
    return HTTPException(403, _coded(message, code, None))


def not_found(kind: str, record_id: str) -> HTTPException:
    """404 naming the kind and id that were looked for."""
    return HTTPException(404, f"{kind} {record_id!r} not found")


def conflict(message: str, *, code: str, field: str | None = None) -> HTTPException:
    """409: the request clashes with the current state of a resource."""
    return HTTPException(409, _coded(message, code, field))


def bad_request(message: str, *, code: str = "bad_request") -> HTTPException:
    """400: the request is well-formed JSON but cannot be acted on as sent."""
    return HTTPException(400, _coded(message, code, None))


def detail_item(loc: Sequence[str | int], msg: str, kind: str, **ctx: Any) -> dict[str, Any]:
    """One FastAPI-style validation item."""
    item: dict[str, Any] = {"loc": list(loc), "msg": msg, "type": kind}
    if ctx:
        item["ctx"] = ctx
    return item


def unprocessable(items: Iterable[dict[str, Any]]) -> HTTPException:
    """422 carrying FastAPI-style validation items."""
    return HTTPException(422, list(items))
