"""The span of one client call; imported only once the application uses opentelemetry.

Attributes follow the OpenTelemetry HTTP client conventions where they apply
(``http.request.method``, ``url.template``, ``http.response.status_code``,
``http.request.resend_count``, ``error.type``) plus ``viksa.service``,
``viksa.request_id`` and ``viksa.attempts``. Never recorded: the URL with its ids
(``url.template`` is the path template), query values, bodies, headers, tokens, and
error messages (``error.type`` names the failure's class or status instead).
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from viksa_ai.client._error_mapping import request_id
from viksa_ai.client._tracing import current_call

if TYPE_CHECKING:
    import httpx

    from viksa_ai.client._pipeline import Plan

__all__ = ["CallSpan"]

_TRACER_NAME = "viksa_ai.client"
_REQUEST_ID_MAX = 128  # the header is the server's: bound what a span keeps of it


def _version() -> str:
    from viksa_ai.client import __version__

    return __version__


_tracer = trace.get_tracer(_TRACER_NAME, _version())


class CallSpan:
    """Starts a client span on entry, makes it current, ends it on exit."""

    __slots__ = ("_attempts", "_span", "_tokens")

    def __init__(self, plan: Plan) -> None:
        call = plan.call
        # A caller-given path (client.request) is the caller's own template, up to any
        # query or fragment written into it: those are values, never recorded.
        template = call.shown_target() if call.raw_path else call.service.prefix + call.path
        attributes: dict[str, Any] = {
            "http.request.method": call.method,
            "url.template": template,
            "viksa.service": call.service.name,
        }
        self._span = _tracer.start_span(
            f"{call.method} {template}", kind=trace.SpanKind.CLIENT, attributes=attributes
        )
        self._attempts = 0
        self._tokens: list[tuple[Any, Any]] = []

    def __enter__(self) -> CallSpan:
        context = trace.set_span_in_context(self._span)
        self._tokens.append((otel_context.attach(context), current_call.set(self)))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        otel_token, call_token = self._tokens.pop()
        current_call.reset(call_token)
        otel_context.detach(otel_token)
        span = self._span
        span.set_attribute("viksa.attempts", self._attempts)
        if self._attempts > 1:
            span.set_attribute("http.request.resend_count", self._attempts - 1)
        if exc_type is not None:
            # The class only: messages may quote the platform's answer.
            error_type = exc_type.__name__
            span.set_attribute("error.type", error_type)
            span.add_event("exception", {"exception.type": error_type})
            span.set_status(trace.StatusCode.ERROR, error_type)
        span.end()

    def attempt(self, request: httpx.Request) -> None:
        self._attempts += 1
        propagate.inject(request.headers, context=trace.set_span_in_context(self._span))

    def response(self, response: httpx.Response) -> None:
        self._span.set_attribute("http.response.status_code", response.status_code)
        found = request_id(response.headers)
        if found:
            self._span.set_attribute("viksa.request_id", found[:_REQUEST_ID_MAX])

    def event(self, name: str, attributes: dict[str, str | int | float] | None) -> None:
        self._span.add_event(name, attributes or {})
