"""The dashboard: server-rendered pages of the local platform, served at ``/``.

Its files (``static/``) ship inside the wheel; nothing is loaded from another origin.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from viksa_ai.devtools.platform.http._dashboard._access import (
    ShellNeededError,
    SignInNeededError,
)
from viksa_ai.devtools.platform.http._dashboard._routes import router, shell_answer

__all__ = ["SIGN_IN_PATH", "install_dashboard"]

SIGN_IN_PATH = "/dashboard/sign-in"
"""The sign-in page; ``?token=`` with the printed one-time token signs in at once."""
_STATIC = Path(__file__).parent / "static"


def install_dashboard(app: FastAPI) -> None:
    """Serve the dashboard's pages, actions and files from ``app``."""
    app.include_router(router)
    app.mount("/dashboard/static", StaticFiles(directory=_STATIC), name="dashboard-static")

    async def sign_in_first(request: Request, exc: Exception) -> RedirectResponse:
        del request, exc
        return RedirectResponse(SIGN_IN_PATH, status_code=303)

    async def shell(request: Request, exc: Exception) -> HTMLResponse:
        del request, exc
        return shell_answer()

    app.add_exception_handler(SignInNeededError, sign_in_first)
    app.add_exception_handler(ShellNeededError, shell)
