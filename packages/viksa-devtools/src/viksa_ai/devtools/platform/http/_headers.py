"""Request headers and path as the routes read them (of a repeated header, the first)."""

from __future__ import annotations

from starlette.types import Scope

__all__ = ["first_headers", "route_path"]


def first_headers(scope: Scope) -> dict[bytes, bytes]:
    """The request's headers by (lower-case) name, each the first one sent under it.

    Routes read headers through Starlette's ``Headers.get``, which answers the first of
    repeated ones; a middleware reading another would act for another caller or tenant
    than the route does (``dict(scope["headers"])`` keeps the last).
    """
    return dict(reversed(scope["headers"]))


def route_path(scope: Scope) -> str:
    """The path the routes match: ``scope["path"]`` without the app's ``root_path``.

    Served under a root path (the app mounted, or ``uvicorn --root-path``), the ASGI
    path starts with it and the router strips it; a middleware telling routes apart by
    ``scope["path"]`` alone would take ``/viksa/_dev/faults`` for an API route.
    """
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :] or "/"
    return path
