"""Who may see and change the dashboard: a signed-in browser, and only from its own pages.

Pages need the session cookie (``HttpOnly``, ``SameSite=Strict``); without it they
send the browser to the sign-in page. Every state-changing request also needs the
session's action token in :data:`CSRF_HEADER`, and is refused when the browser says it
comes from another site (``Origin`` / ``Sec-Fetch-Site``). The sign-in form itself
is protected the same way with a token of its own, set in a cookie when the form is
shown (a login CSRF would sign a victim in as the attacker).

The action token is answered once, by the sign-in, and the page's script keeps it in
``localStorage``, which is this origin's alone; no page carries it. A cookie is not:
a browser sends it to every port of the host, so a server on another 127.0.0.1 port
that the browser visits (a sandboxed agent may listen there) receives it. So pages need
the token too: asked for with the cookie alone (a browser's navigation), a page is an
empty shell that the script fills by asking again with the token, and the live feed
takes it as ``?csrf_token=``. With the cookie alone, nothing is read and nothing done.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response

from viksa_ai.devtools.platform.http._deps import PlatformDep
from viksa_ai.devtools.platform.services._dashboard import BrowserSession, DashboardAccess
from viksa_ai.devtools.platform.services._errors import ForbiddenError, forbidden, unauthorized

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "FORM_COOKIE",
    "ActionDep",
    "FeedDep",
    "PageDep",
    "ShellNeededError",
    "SignInNeededError",
    "check_same_site",
    "set_cookie",
]

COOKIE = "viksa_dashboard"
FORM_COOKIE = "viksa_sign_in_form"
CSRF_HEADER = "X-Viksa-CSRF"


class SignInNeededError(Exception):
    """A page was asked for without a live dashboard session."""


class ShellNeededError(Exception):
    """A page was asked for with the session's cookie but not its action token."""


def set_cookie(response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    """A cookie only this server's pages send back (never to scripts, never cross-site)."""
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="strict", path="/", secure=False
    )


def check_same_site(request: Request) -> None:
    """403 when the browser says the request comes from another site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise forbidden("Cross-site requests to the dashboard are refused.", code="cross_site")
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin is not None and origin.lower() != own.lower():
        raise forbidden("Cross-site requests to the dashboard are refused.", code="cross_site")


def _no_token() -> ForbiddenError:
    return forbidden(
        f"This request lacks the {CSRF_HEADER} token this browser was given when it "
        "signed in: sign in again.",
        code="csrf_failed",
    )


async def _page(request: Request, platform: PlatformDep) -> BrowserSession:
    session = platform.dashboard.browser(request.cookies.get(COOKIE))
    if session is None:
        raise SignInNeededError
    if not DashboardAccess.csrf_matches(session, request.headers.get(CSRF_HEADER)):
        raise ShellNeededError
    return session


PageDep = Annotated[BrowserSession, Depends(_page)]
"""The signed-in browser of a page asked for with its token (else a redirect to the
sign-in page, or the shell its script fills)."""


async def _feed(
    request: Request,
    platform: PlatformDep,
    csrf_token: Annotated[str | None, Query(max_length=200)] = None,
) -> BrowserSession:
    session = platform.dashboard.browser(request.cookies.get(COOKIE))
    if session is None:
        raise SignInNeededError
    if not DashboardAccess.csrf_matches(session, csrf_token):
        raise _no_token()
    return session


FeedDep = Annotated[BrowserSession, Depends(_feed)]
"""The signed-in browser of the live feed, its token in the query (an ``EventSource``
sends no header of its own)."""


async def _action(request: Request, platform: PlatformDep) -> BrowserSession:
    session = platform.dashboard.browser(request.cookies.get(COOKIE))
    if session is None:
        raise unauthorized("Sign in to the dashboard first.", code="not_signed_in")
    check_same_site(request)
    if not DashboardAccess.csrf_matches(session, request.headers.get(CSRF_HEADER)):
        raise _no_token()
    return session


ActionDep = Annotated[BrowserSession, Depends(_action)]
"""The signed-in browser of a state-changing request, its CSRF token checked."""
