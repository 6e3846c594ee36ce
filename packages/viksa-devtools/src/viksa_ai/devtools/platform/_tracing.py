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

A2A: when the request brings no trace of its own, ``continue_envelope`` makes the
engine's steps part of the trace the call's envelope carries (a ``viksa.execute`` span
linked to the route's span); background runs (``pulse.invoke``, webhooks, schedules)
run in a trace of their own (``background``), linked to the request that started them.

The dashboard's timelines: ``record_timelines`` (``viksa dev``) and
``attach_recorder`` (any traced request) feed every finished span to ``_spans.RECORDER``
when the OpenTelemetry SDK is the tracer provider; the engine writes the run's trace id
and the id of the span it began in on its execution record (``note_trace``).

Spans hold the method, the route template (never the path with its ids, nor the
query), the status, the request id and endpoint paths: no header, body or input value.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import AsyncIterator, Iterator, Mapping, MutableMapping, Sequence
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from viksa_ai.devtools.platform._spans import RECORDER, RecordedSpan, safe_attributes
from viksa_ai.devtools.runner._tracing import UNRECORDED
from viksa_ai.devtools.runner._tracing import recording as _recording

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "TracingMiddleware",
    "attach_recorder",
    "background",
    "continue_envelope",
    "fastapi_telemetry_off",
    "note_trace",
    "queued",
    "record_timelines",
    "recording_processor",
    "step",
]

_OTEL_TRACE = "opentelemetry.trace"
_TRACER = "viksa_ai.devtools.platform"
_UNTRACED: AbstractContextManager[None] = nullcontext()
_log = logging.getLogger("viksa_ai.devtools.platform")
# The tracer providers feeding RECORDER (one per process, as the global provider).
_FED_PROVIDERS: list[Any] = []
# The request's route span, and whether the request named a trace of its own.
_ROUTE: ContextVar[tuple[Any, bool] | None] = ContextVar("viksa_route_span", default=None)


@functools.cache
def _tracer() -> Any:
    # One tracer for the process: getting one per span costs as much as the span. The
    # API's proxy tracer follows a provider set later, as the global can be once.
    from opentelemetry import trace

    from viksa_ai.runtime import __version__

    return trace.get_tracer(_TRACER, __version__)


class TracingMiddleware:
    """ASGI middleware: one server span per HTTP request, in the caller's trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _OTEL_TRACE not in sys.modules:
            await self.app(scope, receive, send)
            return
        if _recording() or any(k == b"traceparent" for k, _ in scope["headers"]):
            await self._traced(scope, receive, send)
            return
        # Untraced as a whole: the request's steps need not ask again (see UNRECORDED).
        unrecorded = [True]
        token = UNRECORDED.set(unrecorded)
        try:
            await self.app(scope, receive, send)
        finally:
            unrecorded[0] = False
            UNRECORDED.reset(token)

    async def _traced(self, scope: Scope, receive: Receive, send: Send) -> None:
        from opentelemetry import propagate, trace

        if not RECORDER.active:
            attach_recorder()
        method = scope["method"]
        incoming = propagate.extract(_trace_headers(scope["headers"]))
        span = _tracer().start_span(
            method,
            context=incoming,
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": method},
        )
        continued = trace.get_current_span(incoming).get_span_context().is_valid
        route_token = _ROUTE.set((span, continued))

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
            _ROUTE.reset(route_token)


def _trace_headers(headers: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request's W3C trace headers when well formed (``{}`` otherwise).

    A traceparent sent twice names no parent (W3C: it is not a list); tracestate
    headers are one list, joined with ",". What is not W3C is left out before the
    propagator sees it: it would log the value (a header may hold obs-text bytes).
    """
    from viksa_ai.runtime import _clean_carrier

    parents = [value for key, value in headers if key == b"traceparent"]
    if len(parents) != 1:
        return {}
    states = [value for key, value in headers if key == b"tracestate"]
    carrier = {"traceparent": parents[0].decode("latin-1")}
    if states:
        carrier["tracestate"] = b",".join(states).decode("latin-1")
    return _clean_carrier(carrier) or {}


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
def _step(
    name: str, attributes: dict[str, str], parent: Any = None, links: Sequence[Any] = ()
) -> Iterator[None]:
    from opentelemetry import trace

    with _tracer().start_as_current_span(
        name,
        context=parent,
        attributes=attributes,
        links=links,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield
        except BaseException as exc:
            # The class only: a validation error's message quotes the inputs.
            span.set_attribute("error.type", type(exc).__name__)
            span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
            raise


def continue_envelope(
    inputs: Mapping[str, Any], envelope: Mapping[str, Any] | None, endpoint: str
) -> AbstractContextManager[None]:
    """Run the engine's steps in the trace of the call's A2A envelope, when it has one.

    The route span starts before the body is read, so a request without trace headers
    opens a trace of its own. When that request's envelope (``envelope``, else the one
    under ``__viksa_a2a__`` in ``inputs``) carries ``trace_context``, the steps run in a
    ``viksa.execute`` span of that trace, linked to the route's span. A request that
    named its trace in headers keeps it (a no-op then, and when not tracing).
    """
    if not _recording():
        return _UNTRACED
    route = _ROUTE.get()
    if route is None or route[1]:
        return _UNTRACED
    from viksa_ai.runtime import A2A_PAYLOAD_KEY, A2A_TRACE_KEY, _clean_carrier

    chosen = envelope if envelope is not None else inputs.get(A2A_PAYLOAD_KEY)
    carried = _clean_carrier(chosen.get(A2A_TRACE_KEY)) if isinstance(chosen, Mapping) else None
    if carried is None:
        return _UNTRACED
    from opentelemetry import propagate, trace

    parent = propagate.extract(carried)
    if not trace.get_current_span(parent).get_span_context().is_valid:
        return _UNTRACED
    link = trace.Link(route[0].get_span_context())
    return _step("viksa.execute", {"viksa.endpoint": endpoint}, parent, (link,))


def background(source: str, endpoint: str | None = None) -> AbstractContextManager[None]:
    """A root span for a run nobody waits for, linked to the span that started it.

    Named ``viksa.background SOURCE`` (``pulse.invoke``, ``webhook``, ``schedule``,
    ``workflow.started``...): the request that started the run may have ended long
    before it runs.
    """
    if not _recording():
        return _UNTRACED
    from opentelemetry import context, trace

    started_by = trace.get_current_span().get_span_context()
    links = (trace.Link(started_by),) if started_by.is_valid else ()
    attributes = {"viksa.source": source}
    if endpoint is not None:
        attributes["viksa.endpoint"] = endpoint
    return _step(f"viksa.background {source}", attributes, context.Context(), links)


def note_trace(record: MutableMapping[str, Any]) -> None:
    """Write the current span's trace and span ids on an execution record when tracing.

    ``trace_id`` and ``span_id``: the span is the one the run began in (the request's
    route, an envelope-continued ``viksa.execute``, a ``viksa.background`` root); the
    dashboard shows that span's subtree only, as other accounts' spans share the trace.
    """
    if not _recording():
        return
    from opentelemetry import trace

    found = trace.get_current_span().get_span_context()
    if found.is_valid:
        record["trace_id"] = format(found.trace_id, "032x")
        record["span_id"] = format(found.span_id, "016x")


@asynccontextmanager
async def queued(slots: Any, endpoint: str) -> AsyncIterator[None]:
    """``async with slots`` with the wait for a free worker as a ``viksa.queue`` span."""
    with step("viksa.queue", **{"viksa.endpoint": endpoint}):
        await slots.acquire()
    try:
        yield
    finally:
        slots.release()


def record_timelines(*, service_name: str) -> bool:
    """Keep recent spans for the dashboard, making an SDK tracer provider if needed.

    For ``viksa dev``: False (nothing done) without ``opentelemetry-sdk`` or with
    ``OTEL_SDK_DISABLED=true``, the SDK's own off switch.
    """
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    from viksa_ai.devtools._otlp import sdk_tracer_provider

    if sdk_tracer_provider(service_name) is None:
        return False
    return attach_recorder()


def attach_recorder() -> bool:
    """Feed ``_spans.RECORDER`` from the process's tracer provider, once; whether it is fed.

    Only an SDK provider takes span processors: with the API's default (no SDK
    configured) nothing is recorded, and a later call tries again.
    """
    if RECORDER.active:
        return True
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    if not hasattr(provider, "add_span_processor"):
        return False
    if any(fed is provider for fed in _FED_PROVIDERS):  # never two processors on one
        RECORDER.activate()
        return True
    provider.add_span_processor(recording_processor())
    _FED_PROVIDERS.append(provider)
    RECORDER.activate()
    return True


def recording_processor() -> Any:
    """A new SDK span processor feeding ``_spans.RECORDER`` (``attach_recorder`` adds one)."""
    from opentelemetry.sdk.trace import SpanProcessor

    class _Recording(SpanProcessor):
        def on_end(self, span: Any) -> None:
            try:
                _record(span)
            except Exception:  # a timeline must never fail the code that ended a span
                _log.warning("a span could not be kept for the dashboard", exc_info=True)

    return _Recording()


def _other_traces(links: Any, trace_id: int) -> tuple[tuple[str, str], ...]:
    found = (link.context for link in links if link.context.trace_id != trace_id)
    return tuple(
        dict.fromkeys((format(c.trace_id, "032x"), format(c.span_id, "016x")) for c in found)
    )


def _record(span: Any) -> None:
    # Called by the SDK as each span ends, in whatever thread ended it.
    context = span.context
    if context is None or span.start_time is None or span.end_time is None:
        return
    parent = span.parent
    RECORDER.add(
        format(context.trace_id, "032x"),
        RecordedSpan(
            span_id=format(context.span_id, "016x"),
            parent_id=None if parent is None else format(parent.span_id, "016x"),
            name=span.name,
            kind=span.kind.name,
            start_ns=span.start_time,
            end_ns=span.end_time,
            error=not span.status.is_ok,  # UNSET and OK are both "ok"
            attributes=safe_attributes(span.attributes),
            links=_other_traces(span.links, context.trace_id) if span.links else (),
            remote_parent=parent is not None and parent.is_remote,
        ),
    )
