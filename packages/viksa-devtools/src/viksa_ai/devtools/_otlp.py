"""A tracer provider for the CLI's processes, and OTLP export (``--otlp-endpoint``).

Shared by ``viksa dev`` and ``viksa run``; imports opentelemetry only when called, and
needs neither FastAPI nor the platform (``viksa run`` works without the server extra).

Spans leave from a background thread, so a collector that is down, slow or answers
garbage never slows a call; its failures are said in one line (see ``_otlp_report``).
At exit (and on SIGTERM, which would otherwise end the process before anything is
sent) what is still queued gets at most ``EXPORT_TIMEOUT_SECONDS`` to leave; what has
not left by then is dropped. Each export request gets the same time
(``OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`` or ``OTEL_EXPORTER_OTLP_TIMEOUT`` set it
otherwise, as OpenTelemetry documents).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from importlib.util import find_spec
from types import FrameType
from typing import Any

from viksa_ai.devtools._otlp_report import ExportReport

__all__ = ["EXPORT_TIMEOUT_SECONDS", "configure_otlp", "sdk_tracer_provider"]

EXPORT_TIMEOUT_SECONDS = 3.0
"""How long an export request, and the export of what is queued at exit, may take."""
# Where the SDK's batch processor logs an export that raised (the exporter's logger and
# the processor's module are named from the classes).
_BATCHING_LOGGER = "opentelemetry.sdk._shared_internal"
_TIMEOUT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")


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
    wrong = _url_problem(endpoint)
    if wrong is not None:
        return (
            # Not the value: a URL may hold a password (http://user:password@host/...).
            f"{command}: --otlp-endpoint {wrong}: give the collector's OTLP/HTTP traces "
            "URL, e.g. http://localhost:4318/v1/traces"
        )
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
    # OpenTelemetry's defaults would hold the exit up to 30 s (10 s per request, retried).
    chosen = any(os.environ.get(name) for name in _TIMEOUT_VARIABLES)
    timeout = None if chosen else EXPORT_TIMEOUT_SECONDS
    exporter = OTLPSpanExporter(endpoint=endpoint, timeout=timeout)
    report = ExportReport(endpoint, command)
    for name in (OTLPSpanExporter.__module__, BatchSpanProcessor.__module__, _BATCHING_LOGGER):
        logger = logging.getLogger(name)
        for earlier in [f for f in logger.filters if isinstance(f, ExportReport)]:
            logger.removeFilter(earlier)
        logger.addFilter(report)
    provider.add_span_processor(_bounded(BatchSpanProcessor)(report.exporter(exporter)))
    _flush_on_sigterm(provider)
    return None


def _url_problem(endpoint: str) -> str | None:
    # Checked at start: the exporter would only log at each export that it cannot send.
    from urllib.parse import urlsplit

    try:
        url = urlsplit(endpoint)
        port = url.port
    except ValueError:
        return "is not a URL"
    if url.scheme not in ("http", "https"):
        return "is not an http:// or https:// URL"
    if not url.hostname or port == 0:
        return "names no host and port"
    return None


def _bounded(processor: type[Any]) -> type[Any]:
    class BoundedBatchSpanProcessor(processor):  # type: ignore[misc]
        """Its shutdown (at exit) waits ``EXPORT_TIMEOUT_SECONDS`` at most (with an SDK
        whose batch processor takes that bound)."""

        def shutdown(self) -> None:
            inner = getattr(self, "_batch_processor", None)
            if inner is None:
                # SDKs before the shared BatchProcessor (the extra allows 1.27): their own
                # shutdown, unbounded, rather than an AttributeError and nothing sent.
                super().shutdown()
                return
            inner.shutdown(timeout_millis=int(EXPORT_TIMEOUT_SECONDS * 1000))

    return BoundedBatchSpanProcessor


def _flush_on_sigterm(provider: Any) -> None:
    # SIGTERM's default action ends the process without atexit, where the provider
    # sends what is queued: send it first, then let the signal do what it did before.
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)

    def flush_then_terminate(signum: int, frame: FrameType | None) -> None:
        # In a thread, waited for a bounded time: this handler runs between two bytecodes
        # of the main thread, which may hold the lock the shutdown needs (a span ending);
        # then the queued spans are lost rather than the process hung.
        flusher = threading.Thread(target=provider.shutdown, name="otlp-flush", daemon=True)
        flusher.start()
        flusher.join(EXPORT_TIMEOUT_SECONDS + 1)
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, flush_then_terminate)
