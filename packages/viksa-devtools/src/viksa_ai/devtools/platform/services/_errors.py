"""The platform's domain errors: one small hierarchy, rendered by one handler at the edge.

Services raise :class:`NotFoundError`, :class:`ConflictError`, :class:`ForbiddenError`,
:class:`InvalidError`, :class:`TooManyRequestsError` or :class:`UnavailableError` (never
FastAPI's ``HTTPException``); the HTTP
edge turns each into the wire's ``{"detail": ...}`` answer with :attr:`DomainError.status`.
``detail`` is a string for plain failures, an object ``{"message", "code", "field"}``
where a machine-readable code helps, and a list of ``{"loc", "msg", "type"}`` items for
422. The lower-case helpers build the errors the routes have always answered.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

__all__ = [
    "ConflictError",
    "DomainError",
    "ForbiddenError",
    "InvalidError",
    "NotAuthenticatedError",
    "NotFoundError",
    "TooManyRequestsError",
    "UnavailableError",
    "bad_request",
    "conflict",
    "detail_item",
    "forbidden",
    "not_found",
    "too_many_requests",
    "unauthorized",
    "unprocessable",
]

_BEARER = {"WWW-Authenticate": "Bearer"}


class DomainError(Exception):
    """A request the platform cannot honour, with the wire ``detail`` that says why."""

    status: ClassVar[int] = 400

    def __init__(
        self,
        detail: str | dict[str, Any] | list[dict[str, Any]],
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail if isinstance(detail, str) else _message_of(detail))
        self.detail = detail
        self.status_code = self.status if status is None else status
        self.headers = dict(headers or {})

    @property
    def message(self) -> str:
        """The human-readable part of ``detail``."""
        return str(self.args[0])


class NotFoundError(DomainError):
    """404: no such record here."""

    status = 404


class ConflictError(DomainError):
    """409: the request clashes with the current state of a record."""

    status = 409


class ForbiddenError(DomainError):
    """403: the caller is known but may not do this."""

    status = 403


class NotAuthenticatedError(ForbiddenError):
    """401: no valid credential; answered with a ``WWW-Authenticate: Bearer`` challenge."""

    status = 401


class InvalidError(DomainError):
    """400 (a message) or 422 (a list of validation items): the request cannot be used."""

    status = 400


class TooManyRequestsError(DomainError):
    """429: the caller must wait before trying again (``Retry-After`` says how long)."""

    status = 429


class UnavailableError(DomainError):
    """503: a resource the request needs cannot serve it now."""

    status = 503


def _message_of(detail: dict[str, Any] | list[dict[str, Any]]) -> str:
    if isinstance(detail, dict):
        return str(detail.get("message", detail))
    return "; ".join(str(item.get("msg", item)) for item in detail)


def _coded(message: str, code: str | None, field: str | None) -> str | dict[str, Any]:
    if code is None and field is None:
        return message
    return {"message": message, "code": code, "field": field}


def unauthorized(message: str, *, code: str = "not_authenticated") -> NotAuthenticatedError:
    """401 with a ``WWW-Authenticate: Bearer`` challenge."""
    return NotAuthenticatedError(_coded(message, code, None), headers=_BEARER)


def forbidden(message: str, *, code: str = "forbidden") -> ForbiddenError:
    """403: the caller is known but may not touch this tenant or resource."""
    return ForbiddenError(_coded(message, code, None))


def not_found(kind: str, record_id: str) -> NotFoundError:
    """404 naming the kind and id that were looked for."""
    return NotFoundError(f"{kind} {record_id!r} not found")


def conflict(message: str, *, code: str, field: str | None = None) -> ConflictError:
    """409: the request clashes with the current state of a resource."""
    return ConflictError(_coded(message, code, field))


def bad_request(message: str, *, code: str = "bad_request") -> InvalidError:
    """400: the request is well-formed JSON but cannot be acted on as sent."""
    return InvalidError(_coded(message, code, None))


def too_many_requests(message: str, *, code: str, retry_after: float) -> TooManyRequestsError:
    """429 whose ``Retry-After`` is ``retry_after`` seconds, rounded up (at least 1)."""
    seconds = max(1, math.ceil(retry_after))
    return TooManyRequestsError(_coded(message, code, None), headers={"Retry-After": str(seconds)})


def detail_item(loc: Sequence[str | int], msg: str, kind: str, **ctx: Any) -> dict[str, Any]:
    """One FastAPI-style validation item."""
    item: dict[str, Any] = {"loc": list(loc), "msg": msg, "type": kind}
    if ctx:
        item["ctx"] = ctx
    return item


def unprocessable(items: Iterable[dict[str, Any]]) -> InvalidError:
    """422 carrying FastAPI-style validation items."""
    return InvalidError(list(items), status=422)
