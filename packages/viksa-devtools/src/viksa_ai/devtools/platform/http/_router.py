"""The router of every platform route module: strict JSON bodies, and a cheap miss.

FastAPI (0.120 and later) matches a request against the routers of an app one by one,
and within each router against every route, at about two microseconds a route: a
request for the last router's route (``/_dev/health``) walked some 130 routes, ~0.25 ms
before its handler ran, and a 404 walked them all. A :class:`PlatformRouter` knows the
path prefix every one of its routes starts with and answers "no match" at once for a
path without it, which is exactly what matching each route would have answered.
"""

from __future__ import annotations

from os.path import commonprefix
from typing import Any

from fastapi import APIRouter
from starlette.routing import BaseRoute, Match, Mount, Route, WebSocketRoute
from starlette.types import Scope

from viksa_ai.devtools.platform.http._strict_route import StrictJsonRoute

__all__ = ["PlatformRouter", "literal_prefix"]


def literal_prefix(routes: list[BaseRoute]) -> str:
    """The longest path prefix every one of ``routes`` can only match paths beginning with.

    A route's path up to its first ``{parameter}`` is literal; a route of another kind
    (an included router, a host route) could match anything, so there is no prefix.
    """
    literals: list[str] = []
    for route in routes:
        if not isinstance(route, (Route, WebSocketRoute, Mount)):
            return ""
        literals.append(route.path.split("{", 1)[0])
    # Characters, not path components: a route "/chat/trigger/{id}" has the prefix
    # "/chat/trigger/", which a path must start with to match it.
    return commonprefix(literals) if literals else ""  # noqa: RUF071


class PlatformRouter(APIRouter):
    """An ``APIRouter`` of :class:`StrictJsonRoute` routes that skips paths it cannot serve.

    Include it without a ``prefix`` (``app.include_router(router)``): its prefix is read
    from its own routes' paths, and one added by the include would make them all 404.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", StrictJsonRoute)
        super().__init__(**kwargs)
        self._prefix_of: tuple[int, str] = (-1, "")

    def _literal_prefix(self) -> str:
        # Routes are added at import time; recomputed should one be added later.
        count, prefix = self._prefix_of
        if count != len(self.routes):
            prefix = literal_prefix(self.routes)
            self._prefix_of = (len(self.routes), prefix)
        return prefix

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """FastAPI's match, answered without walking the routes for a path outside them."""
        # Behind a root_path the route path is not scope["path"]: leave it to FastAPI.
        if not scope.get("root_path") and not str(scope.get("path", "")).startswith(
            self._literal_prefix()
        ):
            return Match.NONE, {}
        return super().matches(scope)
