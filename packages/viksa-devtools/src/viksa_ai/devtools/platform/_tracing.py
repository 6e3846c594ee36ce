"""OpenTelemetry spans of the local platform: the route and the engine's steps.

Tracing is on once the process has imported ``opentelemetry.trace`` and set a tracer
provider (``viksa dev --otlp-endpoint`` does, so does a test or an application that
configures one). Until then the middleware passes requests straight through (one
carrying a ``traceparent`` still makes that context current, so the caller's trace
reaches the agent's process as OpenTelemetry's no-op spans would carry it) and the
step spans are a shared no-op: FastAPI imports ``opentelemetry.trace`` itself, so the
import alone says nothing. The route span continues the caller's trace (W3C
``traceparent``/``tracestate`` headers); the engine's steps (``viksa.validate``,
``viksa.queue``, ``viksa.run``) are its children, and the runner's worker call span is
a child of the run, so the context reaches the agent's process.

Spans hold the method, the route template (never the path with its ids, nor the
query), the status, the request id and endpoint paths: no header, body or input value.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager, nullcontext
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["TracingMiddleware", "configure_otlp", "fastapi_telemetry_off", "queued", "step"]

_OTEL_TRACE = "opentelemetry.trace"
_TRACER = "viksa_ai.devtools.platform"
_UNTRACED: AbstractContextManager[None] = nullcontext()


def _tracer() -> Any:
    from opentelemetry import trace

    from viksa_ai.runtime import __version__

    return trace.get_tracer(_TRACER, __version__)


_PROVIDER_SET: list[bool] = []  # [True] once seen: the global provider is set only once


def _recording() -> bool:
    """Whether spans go anywhere: ``opentelemetry.trace`` is imported and a provider set.

    Without a provider every span is a non-recording one that only carries its
    parent's context onwards.
    """
    if _PROVIDER_SET:
        return True
    trace = sys.modules.get(_OTEL_TRACE)
    if trace is None or isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return False
    _PROVIDER_SET.append(True)
    return True


class TracingMiddleware:
    """ASGI middleware: one server span per HTTP request, in the caller's trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or _OTEL_TRACE not in sys.modules
            or not (_recording() or any(k == b"traceparent" for k, _ in scope["headers"]))
        ):
            await self.app(scope, receive, send)
            return
        await self._traced(scope, receive, send)

    async def _traced(self, scope: Scope, receive: Receive, send: Send) -> None:
        from opentelemetry import propagate, trace

        headers = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope["headers"]
            if key in (b"traceparent", b"tracestate")
        }
        method = scope["method"]
        span = _tracer().start_span(
            method,
            context=propagate.extract(headers),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": method},
        )

        async def send_traced(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(trace.StatusCode.ERROR, str(status))
                    span.set_attribute("error.type", str(status))
                for key, value in message.get("headers", []):
                    if key == b"x-request-id":
                        span.set_attribute("viksa.request_id", value.decode("latin-1"))
            await send(message)

        try:
            with trace.use_span(span, record_exception=False, set_status_on_exception=False):
                await self.app(scope, receive, send_traced)
        except BaseException as exc:
            span.set_attribute("error.type", type(exc).__name__)
            span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
            raise
        finally:
            # The router has put the matched route in the scope by now: its template
            # names the span (no ids); an unmatched path stays the bare method.
            route = getattr(scope.get("route"), "path", None)
            if isinstance(route, str):
                span.set_attribute("http.route", route)
                span.update_name(f"{method} {route}")
            span.end()


def fastapi_telemetry_off() -> dict[str, Any]:
    """``FastAPI(**this)`` turns off FastAPI's own telemetry, in versions that have it.

    This module traces the platform: FastAPI's spans would record the raw path (with
    ids) and its logs the messages of validation errors, which quote the inputs.
    """
    import inspect

    from fastapi import FastAPI

    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    off = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
    return {"telemetry": off}


def step(name: str, **attributes: str) -> AbstractContextManager[None]:
    """A span for one engine step (a shared no-op when not tracing).

    Without a tracer provider the step's span would be a non-recording one carrying
    the current context unchanged: leaving it out changes nothing downstream.
    """
    if not _recording():
        return _UNTRACED
    return _step(name, attributes)


@contextmanager
def _step(name: str, attributes: dict[str, str]) -> Iterator[None]:
    from opentelemetry import trace

    with _tracer().start_as_current_span(
        name, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as span:
        try:
            yield
        except BaseException as exc:
            # The class only: a validation error's message quotes the inputs.
            span.set_attribute("error.type", type(exc).__name__)
            span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
            raise


@asynccontextmanager
async def queued(slots: Any, endpoint: str) -> AsyncIterator[None]:
    """``async with slots`` with the wait for a free worker as a ``viksa.queue`` span."""
    with step("viksa.queue", **{"viksa.endpoint": endpoint}):
        await slots.acquire()
    try:
        yield
    finally:
        slots.release()


def configure_otlp(endpoint: str) -> str | None:
    """Export this process's spans to ``endpoint`` over OTLP/HTTP; an error line or None.

    Needs ``opentelemetry-sdk`` and ``opentelemetry-exporter-otlp-proto-http``; when
    they are missing the answer says what to install.
    """
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        return (
            f"viksa dev: --otlp-endpoint needs the OpenTelemetry SDK and OTLP exporter "
            f"({exc.name} is missing): pip install 'viksa-devtools[otlp]'"
        )
    provider = TracerProvider(resource=Resource.create({"service.name": "viksa-dev"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    return None
