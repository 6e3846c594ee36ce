"""Fixtures every suite of the workspace may use (opentelemetry is imported on demand)."""

from __future__ import annotations

from collections.abc import Iterator
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
