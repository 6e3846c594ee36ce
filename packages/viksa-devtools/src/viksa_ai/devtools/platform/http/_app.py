"""The ASGI app factory of the local platform."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp

from viksa_ai.devtools._strict_json import UnfitJsonError
from viksa_ai.devtools.platform._config import PlatformConfig
from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform._tracing import TracingMiddleware, fastapi_telemetry_off
from viksa_ai.devtools.platform.http._answers import JsonAnswer
from viksa_ai.devtools.platform.http._body_limit import BodyLimitMiddleware
from viksa_ai.devtools.platform.http._dashboard import install_dashboard
from viksa_ai.devtools.platform.http._docs import install_docs
from viksa_ai.devtools.platform.http._fault_admin import request_project
from viksa_ai.devtools.platform.http._faults import FaultMiddleware
from viksa_ai.devtools.platform.http._idempotency import (
    IdempotencyMiddleware,
    rewrite_kept_answers,
)
from viksa_ai.devtools.platform.http._request_id import REQUEST_ID_STATE, RequestIdMiddleware
from viksa_ai.devtools.platform.http._routes import (
    agents,
    auth,
    chat,
    deploy,
    dev,
    marketplace,
    mcp,
    pulse,
    scheduler,
    secrets,
    tenancy,
    triggers,
    workflow,
)
from viksa_ai.devtools.platform.http._security_headers import secured
from viksa_ai.devtools.platform.services._errors import DomainError, detail_item
from viksa_ai.devtools.platform.services._mcp_servers import masked_server_answer

__all__ = ["create_app"]

_log = logging.getLogger("viksa_ai.devtools.platform")
# The one SDK version (VERSION at the repository root), as installed: no copy to bump.
_VERSION = version("viksa-devtools")
# Meta setting present once the answers kept for Idempotency-Key replays are masked.
_KEPT_ANSWERS_MASKED = "kept_answers_masked"


class _PlatformApp(FastAPI):
    """The platform's app: its security headers wrap everything, error answers included.

    Middleware added with ``add_middleware`` runs inside Starlette's error middleware,
    whose 500 answer would pass none of it.
    """

    def build_middleware_stack(self) -> ASGIApp:
        return secured(super().build_middleware_stack())


def create_app(
    config: PlatformConfig | None = None, *, platform: Platform | None = None
) -> FastAPI:
    """A FastAPI app serving the Viksa platform API from one :class:`Platform`.

    Pass a ``config`` (a fresh in-memory platform by default) or an existing
    ``platform``. The platform is at ``app.state.platform``; call its ``close()``
    (or ``aclose()``) when done if the app was not served with its lifespan.
    """
    platform = platform or Platform(config or PlatformConfig())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        ticker = asyncio.ensure_future(_run_schedules(platform))
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await platform.aclose()

    app = _PlatformApp(
        title="Viksa local platform",
        version=_VERSION,
        description="A local, stateful emulator of the Viksa AI platform API (`viksa dev`).",
        lifespan=lifespan,
        default_response_class=JsonAnswer,
        # Both pages of FastAPI load their files from a CDN: see install_docs.
        docs_url=None,
        redoc_url=None,
        **fastapi_telemetry_off(),
    )
    app.state.platform = platform
    # Routes are matched in order, one by one: the hot path (pulse) goes first. No
    # other route lives under /pulse/, so moving it changes nothing else.
    routers = (
        pulse.router,
        auth.router,
        tenancy.orgs,
        tenancy.projects,
        agents.router,
        deploy.router,
        secrets.router,
        mcp.router,
        chat.router,
        triggers.triggers,
        triggers.approvals,
        triggers.webhooks,
        workflow.router,
        scheduler.router,
        marketplace.router,
        dev.router,
    )
    for router in routers:
        app.include_router(router)
    install_docs(app)
    install_dashboard(app)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JsonAnswer:
        # FastAPI's own answer echoes each offending "input": a password or secret value
        # sent in the wrong shape would come back in the error (and in client logs).
        del request
        items = [detail_item(err["loc"], err["msg"], err["type"]) for err in exc.errors()]
        return JsonAnswer({"detail": items}, status_code=422)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JsonAnswer:
        # The one place a service's failure becomes an answer: today's wire shapes.
        del request
        return JsonAnswer({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(UnfitJsonError)
    async def unstorable(request: Request, exc: UnfitJsonError) -> JsonAnswer:
        # The store refused a value the edge let through (defence in depth): the value
        # came from the request in every route, so it is the caller's to fix.
        del request
        item = detail_item(["body", *exc.loc], exc.message, exc.kind)
        return JsonAnswer({"detail": [item]}, status_code=422)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JsonAnswer:
        request_id = getattr(request.state, REQUEST_ID_STATE, None)
        _log.exception(
            "unhandled error on %s %s (request %s)", request.method, request.url.path, request_id
        )
        return JsonAnswer(
            {"detail": f"Internal error in the local platform ({type(exc).__name__})."},
            status_code=500,
            headers=None if request_id is None else {"X-Request-Id": request_id},
        )

    if platform.store.meta_get(_KEPT_ANSWERS_MASKED) is None:
        # Answers an earlier version kept may show MCP server secrets: masked once.
        with platform.store.transaction():
            rewrite_kept_answers(platform.store, masked_server_answer)
            platform.store.meta_set(_KEPT_ANSWERS_MASKED, "mcp_server env")
    # Added innermost first: request ids see every answer, faults wrap idempotency so
    # a dropped answer is still stored and replayed on the retry.
    app.add_middleware(
        IdempotencyMiddleware,
        store=platform.store,
        owner_of=platform.accounts.owner_of,
        ttl=platform.config.idempotency_ttl,
    )
    app.add_middleware(
        FaultMiddleware,
        registry=platform.faults,
        project_of=functools.partial(request_project, platform.accounts),
    )
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=platform.config.max_body_bytes,
        timeout=platform.config.body_timeout,
    )
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(TracingMiddleware)  # outermost: it sees the request id answered
    return app


async def _run_schedules(platform: Platform) -> None:
    """Run due interval schedules once a second while the app is served."""
    while True:
        await asyncio.sleep(1.0)
        try:
            await platform.tick()
        except Exception:  # a bad schedule must not stop the clock
            _log.exception("running due schedules failed")
