"""A tracer provider for the CLI's processes, and OTLP export (``--otlp-endpoint``).

Shared by ``viksa dev`` and ``viksa run``; imports opentelemetry only when called, and
needs neither FastAPI nor the platform (``viksa run`` works without the server extra).
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

__all__ = ["configure_otlp", "sdk_tracer_provider"]


def sdk_tracer_provider(service_name: str) -> Any:
    """The process's SDK tracer provider, made and set global if there is none yet.

    None when ``opentelemetry-sdk`` is not installed. A provider the application set
    before is kept (the global provider can be set once per process).
    """
    try:
        # Looked for before importing: with the API alone, importing it would turn on
        # the (no-op) tracing path of every request for nothing.
        if find_spec("opentelemetry.sdk.trace") is None:
            return None
    except ImportError:  # no opentelemetry package at all
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    trace.set_tracer_provider(provider)
    return provider


def configure_otlp(endpoint: str, *, command: str, service_name: str) -> str | None:
    """Export this process's spans to ``endpoint`` over OTLP/HTTP; an error line or None.

    Needs ``opentelemetry-sdk`` and ``opentelemetry-exporter-otlp-proto-http``; when
    they are missing the answer (prefixed with ``command``) says what to install.
    """
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        return (
            f"{command}: --otlp-endpoint needs the OpenTelemetry SDK and OTLP exporter "
            f"({exc.name} is missing): pip install 'viksa-devtools[otlp]'"
        )
    provider = sdk_tracer_provider(service_name)
    if provider is None:  # the exporter without the SDK: not a combination pip makes
        return (
            f"{command}: --otlp-endpoint needs the OpenTelemetry SDK "
            "(opentelemetry.sdk is missing): pip install 'viksa-devtools[otlp]'"
        )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return None
