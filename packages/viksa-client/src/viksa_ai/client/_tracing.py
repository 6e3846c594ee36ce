"""OpenTelemetry spans for client calls, at no cost when the application does not trace.

Tracing turns on by itself once the application has imported ``opentelemetry.trace``
and configured a tracer provider (installing ``viksa-client[otel]`` and setting up the
SDK does that): this module then loads ``_tracing_otel``, which makes one span per
logical call. Until then every hook here is a dictionary lookup and a return, and
nothing of opentelemetry is imported by the client; with the API imported but no
provider, a call is spanned only to carry on a trace already current.

The pipeline loops call ``traced(plan)`` around a call, ``trace_attempt(request)`` for
each request they send, ``trace_response(response)`` for each answer and
``trace_event(name, attributes)`` for retries and token refreshes.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from viksa_ai.client._pipeline import Plan
    from viksa_ai.client._tracing_otel import CallSpan

__all__ = ["trace_attempt", "trace_event", "trace_response", "traced"]

_OTEL_TRACE = "opentelemetry.trace"
_UNTRACED: AbstractContextManager[None] = nullcontext()
# The span of the call in progress in this task or thread (None: not tracing).
current_call: ContextVar[CallSpan | None] = ContextVar("viksa_call_span", default=None)


def traced(plan: Plan) -> AbstractContextManager[Any]:
    """A context manager spanning one logical call (a shared no-op without tracing)."""
    if not _tracing():
        return _UNTRACED
    from viksa_ai.client._tracing_otel import CallSpan

    return CallSpan(plan)


_PROVIDER_SET: list[bool] = []  # [True] once seen: the global provider is set only once


def _tracing() -> bool:
    """Whether a call gets a span: opentelemetry is in use and the span can matter.

    With the API imported but no tracer provider configured (no SDK), a span records
    nothing: it is made only to carry a trace that is already current (an instrumented
    server's request, say) on to the platform, and skipped otherwise, which keeps the
    client's cost that of an untraced call.
    """
    trace = sys.modules.get(_OTEL_TRACE)
    if trace is None:
        return False
    if _PROVIDER_SET:
        return True
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        _PROVIDER_SET.append(True)
        return True
    return bool(trace.get_current_span().get_span_context().is_valid)


def trace_attempt(request: httpx.Request) -> None:
    """Count an attempt of the current call and inject its W3C trace context."""
    span = current_call.get()
    if span is not None:
        span.attempt(request)


def trace_response(response: httpx.Response) -> None:
    """Note an answer of the current call (the last one is the call's)."""
    span = current_call.get()
    if span is not None:
        span.response(response)


def trace_event(name: str, attributes: dict[str, str | int | float] | None = None) -> None:
    """Add an event (a retry, a token refresh) to the current call's span."""
    span = current_call.get()
    if span is not None:
        span.event(name, attributes)
