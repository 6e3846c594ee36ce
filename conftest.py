"""Fixtures every suite of the workspace may use (opentelemetry is imported on demand)."""

from __future__ import annotations

import contextlib
import importlib
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import settings

# Hypothesis keeps no example database: a failure it found once would otherwise be
# replayed from .hypothesis/ on every later run of that checkout only, so a test's
# outcome would depend on local state rather than on the code. A failing example is
# printed with its reproduction blob instead; pin it with @example in the test.
settings.register_profile("viksa", database=None, print_blob=True)
settings.load_profile("viksa")

_exporter: Any = None


@pytest.fixture
def otel_spans() -> Iterator[Any]:
    """An ``InMemorySpanExporter`` holding the spans finished during the test.

    The first use installs an SDK tracer provider for the rest of the session (the
    global provider can be set once per process), or feeds the one already set; each
    test starts with no spans.
    """
    global _exporter
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    if _exporter is None:
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        # else: set by code under test before (``viksa dev`` run in process makes one for
        # the dashboard's timelines), and a process's global provider is set only once.
        _exporter = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
    _exporter.clear()
    yield _exporter
    _exporter.clear()


@pytest.fixture
def no_tracer_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """opentelemetry's API imported, as without an SDK: no tracer provider configured.

    The client and the runner remember a provider once they saw one: forgotten here.
    """
    from opentelemetry import trace

    monkeypatch.setattr(trace, "get_tracer_provider", trace.ProxyTracerProvider)
    for name in ("viksa_ai.client._tracing", "viksa_ai.devtools.runner._tracing"):
        with contextlib.suppress(ImportError):  # a distribution the venv lacks
            monkeypatch.setattr(importlib.import_module(name), "_PROVIDER_SET", [])


def _fresh_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (this interpreter, code from the test)
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def fresh_python() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``fresh_python(code, *argv)``: runs dedented ``code`` in a new interpreter of this
    venv (nothing imported yet: what a module loads shows in its ``sys.modules``), with
    output captured; the completed process."""
    return _fresh_python


OtlpRequest = tuple[str, str, bytes]
"""What an OTLP/HTTP collector stand-in received: (path, content type, body)."""


class _Receiver(BaseHTTPRequestHandler):
    received: list[OtlpRequest]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@pytest.fixture
def otlp_collector() -> Iterator[Callable[..., tuple[str, list[OtlpRequest]]]]:
    """Starts OTLP/HTTP collector stand-ins on 127.0.0.1: ``start(port=0)`` gives the
    traces URL and the list of requests it receives; all stop after the test."""
    servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(port: int = 0) -> tuple[str, list[OtlpRequest]]:
        received: list[OtlpRequest] = []
        handler = type("Receiver", (_Receiver,), {"received": received})
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/v1/traces", received

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def searched_in(monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
    """The threads that handed an input pattern's search to a worker process (a spy)."""
    from viksa_ai.devtools import _validation_workers as workers

    threads: list[threading.Thread] = []
    search = workers.search_in_worker

    def spy(pattern: str, value: str, time_limit: float) -> bool:
        threads.append(threading.current_thread())
        return search(pattern, value, time_limit)

    monkeypatch.setattr(workers, "search_in_worker", spy)
    return threads


class OpenSpans:
    """Spans started and not yet ended (an SDK span processor, added once)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans: dict[int, str] = {}

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        with self.lock:
            self.spans[span.context.span_id] = span.name

    def on_end(self, span: Any) -> None:
        with self.lock:
            # Not the object on_start had (the SDK hands on a readable copy): its id.
            self.spans.pop(span.context.span_id, None)

    def _on_ending(self, span: Any) -> None:
        del span

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        del timeout_millis
        return True


_OPEN: list[OpenSpans] = []


@pytest.fixture
def open_spans(otel_spans: Any) -> OpenSpans:
    """The spans started during the test and not ended (with the SDK's provider on)."""
    from opentelemetry import trace

    if not _OPEN:
        _OPEN.append(OpenSpans())
        trace.get_tracer_provider().add_span_processor(_OPEN[0])  # type: ignore[attr-defined]
    with _OPEN[0].lock:
        _OPEN[0].spans.clear()
    return _OPEN[0]
