"""What a user sees of OTLP export failures: one line when export starts failing, one when
it works again, nothing in between.

OpenTelemetry logs each retry and each failed batch (three lines per batch for a port
where nothing listens) and, under load, one ``Queue full`` line per span it drops.
:class:`ExportReport` takes those records (a filter on the SDK's loggers) and the
result of each export (:meth:`ExportReport.exporter` wraps the exporter) and says it
once, naming the endpoint without what a URL may hide (user, password, query).
Everything else the SDK logs is kept, on one safe line (a collector is a peer on the
network: what it answers must not put escape sequences or lines into the terminal).
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ExportReport", "shown_endpoint"]

_log = logging.getLogger("viksa_ai.devtools.otlp")
# The SDK's lines about a batch that did not leave (exporter, HTTP client and batch
# processor, across the SDK versions the extra allows): said once by the report instead.
_FAILURE_LINES = ("Transient error", "Failed to export", "Exception while exporting")
# Lines that follow failures at exit ("aborting retry"): not said again while failing.
_AFTER_FAILURE_LINES = ("Shutdown in progress", "Exporter already shutdown")
_QUEUE_FULL = "Queue full"


def shown_endpoint(endpoint: str) -> str:
    """``endpoint`` without user, password, query or fragment (they may hold secrets)."""
    url = urlsplit(endpoint)
    host = url.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{host}{port}{url.path}"


class ExportReport(logging.Filter):
    """Says when export to one endpoint fails and when it recovers (see the module)."""

    def __init__(self, endpoint: str, command: str) -> None:
        super().__init__()
        self._endpoint = shown_endpoint(endpoint)
        self._command = command
        self._lock = threading.Lock()
        self._failing = False
        self._queue_full_said = False

    def exporter(self, inner: Any) -> Any:
        """``inner`` (a span exporter) reporting each export's result here."""
        return _ReportingExporter(inner, self)

    def failed(self, status: int | None = None) -> None:
        """An export failed (``status``: the collector's HTTP answer, when known)."""
        with self._lock:
            if self._failing:
                return
            self._failing = True
        why = (
            f"the collector answered HTTP {status}"
            if status is not None
            else "is an OTLP/HTTP collector listening there?"
        )
        _log.warning(
            "%s: cannot export spans to %s (%s); they are dropped until an export succeeds",
            self._command,
            self._endpoint,
            why,
        )

    def succeeded(self) -> None:
        """An export succeeded: said once if exports were failing."""
        with self._lock:
            was_failing, self._failing = self._failing, False
            self._queue_full_said = False
        if was_failing:
            _log.warning("%s: spans reach %s again", self._command, self._endpoint)

    def filter(self, record: logging.LogRecord) -> bool:
        template = str(record.msg)
        if template.startswith(_FAILURE_LINES):
            self.failed(_status_in(record.args))
            return False
        if template.startswith(_AFTER_FAILURE_LINES) and self._failing:
            return False
        if template.startswith(_QUEUE_FULL):
            # One per span dropped: none while failing (that line says spans are
            # dropped), else one until an export succeeds.
            with self._lock:
                said = self._failing or self._queue_full_said
                self._queue_full_said = True
            if said:
                return False
        _one_line(record)
        return True


def _status_in(args: Any) -> int | None:
    for arg in args if isinstance(args, tuple) else ():
        if isinstance(arg, int) and not isinstance(arg, bool) and 100 <= arg <= 599:
            return arg
    return None


def _one_line(record: logging.LogRecord) -> None:
    """The record's text (and its exception's) on one line without control characters."""
    record.msg, record.args = _safe(record.getMessage()), None
    if record.exc_info and record.exc_info[1] is not None:
        # The failure in a line, not a traceback of the SDK's frames.
        error = record.exc_info[1]
        record.exc_text = _safe(f"{type(error).__name__}: {error}")
        record.exc_info = None


def _safe(text: str) -> str:
    from viksa_ai.devtools._terminal import printable

    return printable(text.replace("\r", "\\r").replace("\n", "\\n"))


class _ReportingExporter:
    """A span exporter handing each export to ``wrapped`` and its result to the report."""

    def __init__(self, wrapped: Any, report: ExportReport) -> None:
        self.wrapped = wrapped
        self._report = report

    def export(self, spans: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        try:
            result = self.wrapped.export(spans)
        except Exception:  # reported as one line, not a traceback per batch
            self._report.failed()
            return SpanExportResult.FAILURE
        if result == SpanExportResult.SUCCESS:
            self._report.succeeded()
        else:
            self._report.failed()
        return result

    def shutdown(self) -> None:
        self.wrapped.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self.wrapped.force_flush(timeout_millis))
