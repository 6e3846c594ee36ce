"""Fixtures every suite of the workspace may use (opentelemetry is imported on demand)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

_exporter: Any = None


@pytest.fixture
def otel_spans() -> Iterator[Any]:
    """An ``InMemorySpanExporter`` holding the spans finished during the test.

    The first use installs an SDK tracer provider for the rest of the session (the
    global provider can be set once per process); each test starts with no spans.
    """
    global _exporter
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    if _exporter is None:
        provider = TracerProvider()
        _exporter = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
        trace.set_tracer_provider(provider)
    _exporter.clear()
    yield _exporter
    _exporter.clear()
