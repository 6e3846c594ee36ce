"""The finished spans of recent traces, kept in memory for the dashboard's timeline.

Stdlib only: ``_tracing`` feeds it from an OpenTelemetry span processor (when the SDK is
installed and a tracer provider configured); the dashboard reads one trace by its id,
which the engine writes on each execution record (``trace_id``). Bounded twice: at most
``max_traces`` traces (the least recently updated one goes first) and
``max_spans`` spans per trace (later ones are counted, not kept). Safe to feed from any
thread: a ``BatchSpanProcessor`` or an agent's own thread may end spans.

Only attributes named in ``SAFE_ATTRIBUTES`` are kept: route templates, statuses,
endpoint paths, error classes. Whatever else a span carries (another instrumentation's
URL with its query, a header) never reaches a page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "RECORDER",
    "SAFE_ATTRIBUTES",
    "RecordedSpan",
    "RecordedTrace",
    "SpanRecorder",
    "safe_attributes",
]

SAFE_ATTRIBUTES = frozenset(
    {
        "http.request.method",
        "http.route",
        "http.response.status_code",
        "url.template",
        "viksa.service",
        "viksa.attempts",
        "viksa.endpoint",
        "viksa.source",
        "error.type",
    }
)
"""The span attributes a timeline may show: none of them can hold a secret or an input."""


class RecordedSpan(NamedTuple):
    """One finished span, reduced to what a timeline shows (a tuple: cheap to make)."""

    span_id: str
    parent_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    error: bool
    attributes: tuple[tuple[str, str], ...] = ()
    links: tuple[str, ...] = ()
    """Trace ids of the spans this one links to (a background run's starting request)."""

    @property
    def duration_ns(self) -> int:
        """How long the span lasted (never negative)."""
        return max(0, self.end_ns - self.start_ns)


@dataclass(frozen=True)
class RecordedTrace:
    """The kept spans of one trace, in the order they started, and how many were dropped."""

    trace_id: str
    spans: tuple[RecordedSpan, ...]
    dropped: int


def safe_attributes(attributes: Mapping[str, object] | None) -> tuple[tuple[str, str], ...]:
    """The attributes of ``SAFE_ATTRIBUTES`` as sorted (name, text) pairs."""
    if not attributes:
        return ()
    return tuple(
        sorted((key, str(value)) for key, value in attributes.items() if key in SAFE_ATTRIBUTES)
    )


class _Trace:
    __slots__ = ("dropped", "spans")

    def __init__(self) -> None:
        self.spans: list[RecordedSpan] = []
        self.dropped = 0


class SpanRecorder:
    """Finished spans of the latest ``max_traces`` traces, at most ``max_spans`` each."""

    def __init__(self, *, max_traces: int = 200, max_spans: int = 256) -> None:
        if max_traces < 1 or max_spans < 1:
            raise ValueError("a span recorder keeps at least one trace of one span")
        self.max_traces = max_traces
        self.max_spans = max_spans
        self._traces: OrderedDict[str, _Trace] = OrderedDict()
        self._lock = threading.Lock()
        self._active = False

    @property
    def active(self) -> bool:
        """Whether a span processor feeds this recorder (tracing is on)."""
        return self._active

    def activate(self) -> None:
        """Mark the recorder as fed (the processor is in place)."""
        self._active = True

    def add(self, trace_id: str, span: RecordedSpan) -> None:
        """Keep ``span`` of ``trace_id``; the least recently updated trace goes when full."""
        with self._lock:
            kept = self._traces.get(trace_id)
            if kept is None:
                kept = self._traces[trace_id] = _Trace()
                while len(self._traces) > self.max_traces:
                    self._traces.popitem(last=False)
            else:
                self._traces.move_to_end(trace_id)
            if len(kept.spans) < self.max_spans:
                kept.spans.append(span)
            else:
                kept.dropped += 1

    def trace(self, trace_id: str) -> RecordedTrace | None:
        """The kept spans of ``trace_id`` by start time, or None when none is kept."""
        with self._lock:
            kept = self._traces.get(trace_id)
            if kept is None:
                return None
            spans = sorted(kept.spans, key=lambda s: (s.start_ns, s.end_ns))
            return RecordedTrace(trace_id, tuple(spans), kept.dropped)

    def trace_ids(self) -> Sequence[str]:
        """The kept traces' ids, least recently updated first."""
        with self._lock:
            return tuple(self._traces)

    def clear(self) -> None:
        """Forget every kept span."""
        with self._lock:
            self._traces.clear()


RECORDER = SpanRecorder()
"""The process's recorder: one tracer provider per process feeds one recorder."""
