"""The route class of every platform router: JSON bodies go through the strict decoder.

FastAPI parses a JSON body with ``request.json()``, that is Python's permissive
``json.loads``. Routes of this class see a request whose ``json()`` is
:func:`~viksa_ai.devtools._strict_json.loads_strict`, so a body with NaN,
Infinity, a lone surrogate or nesting deeper than ``MAX_JSON_DEPTH`` answers 422
naming the field, before any route code runs (and so before anything is stored).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from viksa_ai.devtools._strict_json import UnfitJsonError, loads_strict
from viksa_ai.devtools.platform.services._errors import detail_item, unprocessable

__all__ = ["DirectHandler", "StrictJsonRoute", "direct_route"]

DirectHandler = Callable[[Request], Awaitable[Response | None]]
"""Answers a request of its route itself, or None to leave it to FastAPI's handler."""


class _StrictRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = loads_strict(body)
            except UnfitJsonError as exc:
                refused = unprocessable([detail_item(["body", *exc.loc], exc.message, exc.kind)])
                # Raised while FastAPI reads the body, where it turns any error but its
                # own HTTPException into a bare 400: the same answer, in FastAPI's type.
                raise HTTPException(refused.status_code, refused.detail) from None
        return self._json


class StrictJsonRoute(APIRoute):
    """An API route whose JSON body is decoded strictly (see the module documentation)."""

    direct: DirectHandler | None = None

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        direct = type(self).direct

        async def strict_handler(request: Request) -> Response:
            strict = _StrictRequest(request.scope, request.receive)
            # The direct handler calls the dependency functions themselves: with any
            # override set on the app (a test's), only FastAPI's handler honours it.
            if direct is not None and not getattr(strict.app, "dependency_overrides", None):
                answer = await direct(strict)
                if answer is not None:
                    return answer
            # The same request object: a body the direct handler read is not read twice.
            return await handler(strict)

        return strict_handler


def direct_route(handler: DirectHandler) -> type[StrictJsonRoute]:
    """A :class:`StrictJsonRoute` class whose requests ``handler`` answers first.

    For a hot route: ``handler`` serves its common case with the same code the endpoint
    calls, without FastAPI's per-request dependency solving and body validation, and
    returns None for anything else (a body that is not a JSON object, an unusual
    content type), which FastAPI's handler then answers as it always has. The route's
    OpenAPI operation is FastAPI's, from the endpoint's signature. While the app has any
    ``dependency_overrides``, every request goes to FastAPI's handler, which honours them.
    """
    return type("DirectRoute", (StrictJsonRoute,), {"direct": staticmethod(handler)})
