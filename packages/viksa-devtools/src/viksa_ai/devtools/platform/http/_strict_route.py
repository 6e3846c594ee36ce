"""The route class of every platform router: JSON bodies go through the strict decoder.

FastAPI parses a JSON body with ``request.json()``, that is Python's permissive
``json.loads``. Routes of this class see a request whose ``json()`` is
:func:`~viksa_ai.devtools.platform.store._strict_json.loads_strict`, so a body with NaN,
Infinity, a lone surrogate or nesting deeper than ``MAX_JSON_DEPTH`` answers 422
naming the field, before any route code runs (and so before anything is stored).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from viksa_ai.devtools.platform.services._errors import detail_item, unprocessable
from viksa_ai.devtools.platform.store._strict_json import UnfitJsonError, loads_strict

__all__ = ["StrictJsonRoute"]


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

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(_StrictRequest(request.scope, request.receive))

        return strict_handler
