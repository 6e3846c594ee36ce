"""The worker call as an OpenTelemetry span, when the application traces.

As in the client, tracing is on once the process has imported ``opentelemetry.trace``
and configured a tracer provider (``viksa-devtools[otel]`` installed and the SDK set
up); until then ``worker_span`` is a shared no-op and nothing of opentelemetry is
imported. With the API imported but no provider, a call is spanned only to carry on a
trace already current or carried by its envelope.

The span's parent is the current span, or the trace context carried by the call's A2A
envelope (``viksa_ai.runtime.A2A_TRACE_KEY``) when that names another trace (or none
is current), so an agent called by another agent continues the caller's trace; the
current span is then linked. The span's own context goes to the child process in the
call message (``trace``), where ``_child_trace`` restores it for the endpoint.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

from viksa_ai.runtime import A2A_TRACE_KEY

__all__ = ["UNRECORDED", "recording", "worker_span"]

_OTEL_TRACE = "opentelemetry.trace"
_UNTRACED: AbstractContextManager[dict[str, str] | None] = nullcontext(None)


def worker_span(
    endpoint: str, envelope: Mapping[str, Any] | None
) -> AbstractContextManager[dict[str, str] | None]:
    """Span a worker call of ``endpoint``; the block gets the carrier for the child.

    The carrier is ``{"traceparent": ..., "tracestate": ...}`` (``None`` untraced).
    """
    trace = sys.modules.get(_OTEL_TRACE)
    if trace is None:
        return _UNTRACED
    if not recording() and not (
        (envelope is not None and A2A_TRACE_KEY in envelope)
        or trace.get_current_span().get_span_context().is_valid
    ):
        # No provider, so the span would record nothing, and no trace to carry on.
        return _UNTRACED
    return _traced(endpoint, envelope)


_PROVIDER_SET: list[bool] = []  # [True] once seen: the global provider is set only once

UNRECORDED: ContextVar[list[bool] | None] = ContextVar("viksa_unrecorded", default=None)
"""``[True]`` while a platform request that began without a tracer provider runs.

Its steps and worker call then record nothing either and need not ask OpenTelemetry
again (each asking reads the environment, several times a request). The platform's
middleware sets it to ``[False]`` as the request ends: a background run the request
started asks for itself from then on.
"""


def recording() -> bool:
    """Whether spans go anywhere: ``opentelemetry.trace`` is imported and a provider set.

    Without a provider every span is a non-recording one that only carries its
    parent's context onwards.
    """
    if _PROVIDER_SET:
        return True
    unrecorded = UNRECORDED.get()
    if unrecorded is not None and unrecorded[0]:
        return False
    trace = sys.modules.get(_OTEL_TRACE)
    if trace is None or isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return False
    _PROVIDER_SET.append(True)
    return True


@functools.cache
def _tracer() -> Any:
    # One tracer for the process (getting one per call costs as much as the span); the
    # API's proxy tracer follows a provider set later.
    from opentelemetry import trace

    from viksa_ai.runtime import __version__

    return trace.get_tracer("viksa_ai.devtools.runner", __version__)


@contextmanager
def _traced(endpoint: str, envelope: Mapping[str, Any] | None) -> Iterator[dict[str, str] | None]:
    from opentelemetry import propagate, trace

    from viksa_ai.runtime import A2A_TRACE_KEY, _clean_carrier

    tracer = _tracer()
    current = trace.get_current_span().get_span_context()
    parent = None
    links = []
    # From the wire: only W3C strings reach the propagator (which logs what it rejects).
    carried = _clean_carrier(envelope.get(A2A_TRACE_KEY)) if envelope is not None else None
    if carried is not None:
        remote = propagate.extract(carried)
        remote_span = trace.get_current_span(remote).get_span_context()
        if remote_span.is_valid and remote_span.trace_id != current.trace_id:
            parent = remote
            if current.is_valid:
                links.append(trace.Link(current))
    attributes = {"viksa.endpoint": endpoint}
    with tracer.start_as_current_span(
        f"viksa.worker.call {endpoint}",
        context=parent,
        kind=trace.SpanKind.CLIENT,
        attributes=attributes,
        links=links,
        record_exception=False,  # it would record the message, which may quote inputs
        set_status_on_exception=False,
    ) as span:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        try:
            yield carrier or None
        except BaseException as exc:
            # The class and the runner's kind only: messages may quote inputs or secrets.
            kind = getattr(exc, "kind", None)
            error_type = kind if isinstance(kind, str) else type(exc).__name__
            span.set_attribute("error.type", error_type)
            span.add_event("exception", {"exception.type": type(exc).__name__})
            span.set_status(trace.StatusCode.ERROR, error_type)
            raise
