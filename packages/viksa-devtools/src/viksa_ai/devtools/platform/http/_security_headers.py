"""The security headers of the platform's answers, set in one place for every answer.

Every answer carries ``X-Content-Type-Options: nosniff`` (an API error echoing a request
value must never be sniffed into HTML). Every answer on the dashboard's paths (``/`` and
``/dashboard/...``: pages, actions, errors, redirects, static files, the live feed) also
carries :data:`DASHBOARD_HEADERS`: never framed, no referrer to other origins, and a
content policy allowing nothing, which the HTML pages replace with :data:`PAGE_HEADERS`.
A header the route set itself is kept.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from viksa_ai.devtools.platform.http._headers import route_path

__all__ = [
    "DASHBOARD_HEADERS",
    "PAGE_HEADERS",
    "is_dashboard_path",
    "secured",
    "security_headers",
]

_NOSNIFF = {"X-Content-Type-Options": "nosniff"}
DASHBOARD_HEADERS: Mapping[str, str] = {
    **_NOSNIFF,
    # A JSON answer, a style sheet or a script loads nothing and runs nothing as a page.
    "Content-Security-Policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Frame-Options": "DENY",
    # Not no-referrer: with it a browser sends "Origin: null" on form posts.
    "Referrer-Policy": "same-origin",
}
"""What every answer on the dashboard's paths carries (unless the route set its own)."""
PAGE_HEADERS: Mapping[str, str] = {
    **DASHBOARD_HEADERS,
    # What a dashboard page may load and do: its own scripts and styles, nothing inline,
    # nothing from another origin, never framed.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Cache-Control": "no-store",
}
"""What a dashboard HTML page answers with (its script and styles come from here)."""


def _encoded(headers: Mapping[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())


_API_RAW = _encoded(_NOSNIFF)
_DASHBOARD_RAW = _encoded(DASHBOARD_HEADERS)


def is_dashboard_path(path: str) -> bool:
    """Whether ``path`` (as the routes match it) is one of the dashboard's."""
    return path == "/" or path == "/dashboard" or path.startswith("/dashboard/")


def security_headers(path: str) -> tuple[tuple[bytes, bytes], ...]:
    """The headers an answer to ``path`` carries, as ASGI (lower-case) byte pairs."""
    return _DASHBOARD_RAW if is_dashboard_path(path) else _API_RAW


def secured(app: ASGIApp) -> ASGIApp:
    """``app`` adding :func:`security_headers` to every HTTP answer it sends.

    Wraps the whole app (see ``create_app``), so the 500 answers of Starlette's error
    middleware carry them too.
    """

    async def secured_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        wanted = security_headers(route_path(scope))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                missing = [pair for pair in wanted if pair[0] not in present]
                if missing:
                    message = {**message, "headers": [*headers, *missing]}
            await send(message)

        await app(scope, receive, send_with_headers)

    return secured_app
