"""Request headers as the routes read them: of a repeated header, the first one."""

from __future__ import annotations

from starlette.types import Scope

__all__ = ["first_headers"]


def first_headers(scope: Scope) -> dict[bytes, bytes]:
    """The request's headers by (lower-case) name, each the first one sent under it.

    Routes read headers through Starlette's ``Headers.get``, which answers the first of
    repeated ones; a middleware reading another would act for another caller or tenant
    than the route does (``dict(scope["headers"])`` keeps the last).
    """
    return dict(reversed(scope["headers"]))
