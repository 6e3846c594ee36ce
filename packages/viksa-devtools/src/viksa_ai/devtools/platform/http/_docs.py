"""``/docs``: Swagger UI served from this machine (its files come with the server extra).

FastAPI's own page loads Swagger UI from a CDN, so it is blank offline; this one loads
the same files from the ``swagger-ui-bundle-v2`` package. ``/redoc`` (CDN only) leads
here.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

__all__ = ["install_docs"]

_ASSETS = "/docs/assets"
# Swagger UI runs inline script, so no script policy; but it is never framed (a page
# elsewhere could overlay its buttons once a token is pasted into "Authorize").
_NOT_FRAMED = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` (and its OAuth2 redirect) with local Swagger UI files."""
    title = f"{app.title} - API docs"
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        answer = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{_ASSETS}/favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )
        answer.headers.update(_NOT_FRAMED)
        return answer

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        answer = get_swagger_ui_oauth2_redirect_html()
        answer.headers.update(_NOT_FRAMED)
        return answer

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> RedirectResponse:
        return RedirectResponse("/docs", status_code=307)

    app.mount(_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
