"""An execution's spans as a timeline: one table, a bar per span, readable without the bars.

Each row is a span in start order, nested under its parent (indented, and named in a
visually hidden "in PARENT" for screen readers), with its start offset, duration,
status and safe attributes as text; the bar is an SVG drawn from attributes (``x``,
``width``), so the page needs no inline style, and is hidden from assistive
technology (the numbers say the same).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from viksa_ai.devtools.platform._spans import RecordedSpan, RecordedTrace, SpanRecorder
from viksa_ai.devtools.platform.http._dashboard._html import esc

__all__ = ["ENABLE_TRACING", "timeline_section"]

ENABLE_TRACING = 'pip install "viksa-devtools[otel]"'
"""What installs the OpenTelemetry SDK the timeline needs."""

_MAX_DEPTH_CLASS = 8
_MAX_LINKED = 3
_PLATFORM_ONLY = (
    "Spans of the platform's process: the route, the engine's steps and the worker call. "
    "Spans the agent's own code makes run in its worker process and go wherever that "
    "process exports them."
)


def timeline_section(record: Mapping[str, Any], recorder: SpanRecorder) -> str:
    """The "Timeline" part of an execution's page (or why there is none)."""
    head = "<h2>Timeline</h2>"
    if not recorder.active:
        return head + (
            '<p class="note" id="timeline-off">Tracing is off, so this execution\'s spans '
            f"were not recorded. Install the OpenTelemetry SDK, <code>{esc(ENABLE_TRACING)}"
            "</code>, and restart <code>viksa dev</code> (a platform run in your own "
            "process records them once your process sets an SDK tracer provider).</p>"
        )
    trace_id = record.get("trace_id")
    if not isinstance(trace_id, str):
        if record.get("status") in ("running", "awaiting_approval"):
            return head + '<p class="muted">The timeline shows once the run has ended.</p>'
        return head + '<p class="muted">No trace was recorded for this execution.</p>'
    found = recorder.trace(trace_id)
    if found is None:
        return head + (
            f'<p class="muted">The spans of trace <code>{esc(trace_id)}</code> are no '
            f"longer kept: the dashboard keeps the latest {recorder.max_traces} traces.</p>"
        )
    parts = [head, f'<p class="muted">{esc(_PLATFORM_ONLY)}</p>', _table(found, "This run")]
    linked = list(dict.fromkeys(t for span in found.spans for t in span.links))
    for other_id in linked[:_MAX_LINKED]:
        other = recorder.trace(other_id)
        if other is not None:
            parts.append(_table(other, "Started by"))
    return "".join(parts)


def _ordered(spans: Sequence[RecordedSpan]) -> list[tuple[RecordedSpan, int, str | None]]:
    """Each span with its depth and its parent's name, parents before their children."""
    ids = {span.span_id: span for span in spans}
    children: dict[str | None, list[RecordedSpan]] = {}
    for span in spans:  # already in start order
        under = span.parent_id if span.parent_id in ids else None
        children.setdefault(under, []).append(span)
    ordered: list[tuple[RecordedSpan, int, str | None]] = []
    stack = [(span, 0) for span in reversed(children.get(None, []))]
    while stack:
        span, depth = stack.pop()
        parent = ids.get(span.parent_id) if span.parent_id else None
        ordered.append((span, depth, None if parent is None else parent.name))
        stack.extend((child, depth + 1) for child in reversed(children.get(span.span_id, [])))
    return ordered


def _ms(nanoseconds: int) -> str:
    return f"{nanoseconds / 1_000_000:.1f} ms"


def _table(found: RecordedTrace, title: str) -> str:
    spans = found.spans
    start = min(span.start_ns for span in spans)
    total = max(max(span.end_ns for span in spans) - start, 1)
    rows = []
    for span, depth, parent in _ordered(spans):
        offset = span.start_ns - start
        left = 100 * offset / total
        width = max(100 * span.duration_ns / total, 0.5)
        tone, word = ("bad", "error") if span.error else ("ok", "ok")
        status = f'<span class="badge {tone}">{word}</span>'
        details = " ".join(
            f"<code>{esc(key)}={esc(value)}</code>" for key, value in span.attributes
        )
        within = (
            "" if parent is None else f'<span class="visually-hidden"> (in {esc(parent)})</span>'
        )
        bar = (
            '<svg class="span-bar" viewBox="0 0 100 4" preserveAspectRatio="none" '
            f'aria-hidden="true" focusable="false"><rect x="{left:.2f}" y="0" '
            f'width="{min(width, 100 - left):.2f}" height="4" '
            f'class="{"bad" if span.error else "ok"}"></rect></svg>'
        )
        rows.append(
            f'<tr data-span="{esc(span.span_id)}">'
            f'<th scope="row" class="depth-{min(depth, _MAX_DEPTH_CLASS)}">'
            f"{esc(span.name)}{within}</th>"
            f"<td>{esc(_ms(offset))}</td><td>{esc(_ms(span.duration_ns))}</td>"
            f"<td>{status}</td><td>{details}</td><td>{bar}</td></tr>"
        )
    dropped = (
        f'<p class="muted">{found.dropped} more spans of this trace were not kept.</p>'
        if found.dropped
        else ""
    )
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("Span", "Starts at", "Duration", "Status", "Attributes", "Timeline")
    )
    count = f"{len(spans)} span{'' if len(spans) == 1 else 's'}"
    caption = f"{title}: trace {found.trace_id}, {count}"
    return (
        '<table class="timeline">'
        f"<caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{dropped}"
    )
