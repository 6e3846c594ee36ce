"""In the child: run a call inside the trace context the runner sent (stdlib only).

The call message's ``trace`` holds the W3C strings of the runner's worker span. They
become the runtime's ``trace_context()`` for the call (so ``attach_envelope`` passes
them to the next agent), and, when opentelemetry is installed in the agent's
interpreter, the current OpenTelemetry context: spans the agent makes (by hand or with
an instrumentation such as httpx's) join the caller's trace. Without a ``trace`` the
call runs as before and nothing is imported.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

__all__ = ["restore_trace"]


def restore_trace(coroutine: Coroutine[Any, Any, Any], carrier: object) -> Coroutine[Any, Any, Any]:
    """``coroutine`` run inside ``carrier``'s trace (itself when there is none)."""
    if not isinstance(carrier, dict) or not carrier:
        return coroutine
    return _traced(coroutine, carrier)


async def _traced(coroutine: Coroutine[Any, Any, Any], carrier: dict[str, Any]) -> Any:
    # Runs as the call's own task: what is set here is seen by this call only.
    from viksa_ai.runtime import _reset_trace_context, _set_trace_context

    token = _set_trace_context(carrier)
    detach = _attach_otel(carrier)
    try:
        return await coroutine
    finally:
        detach()
        _reset_trace_context(token)


def _attach_otel(carrier: dict[str, Any]) -> Any:
    try:
        from opentelemetry import context, propagate
    except ImportError:  # the agent's interpreter has no opentelemetry: strings only
        return lambda: None
    from viksa_ai.runtime import _set_trace_provider

    _set_trace_provider(_current_carrier)
    token = context.attach(propagate.extract(carrier))
    return lambda: context.detach(token)


def _current_carrier() -> dict[str, str]:
    # The runtime's trace_context() asks this first: the agent's own current span.
    from opentelemetry import propagate

    found: dict[str, str] = {}
    propagate.inject(found)
    return found
