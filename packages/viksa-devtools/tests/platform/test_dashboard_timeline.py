"""The execution page's timeline, rendered from a recorder: states, nesting, bars, text."""

from __future__ import annotations

import re

from viksa_ai.devtools.platform._spans import RecordedSpan, SpanRecorder
from viksa_ai.devtools.platform.http._dashboard._timeline import ENABLE_TRACING, timeline_section

_TRACE = "ab" * 16
_STARTER = "cd" * 16


def _span(
    span_id: str,
    name: str,
    start_ms: float,
    end_ms: float,
    parent: str | None = None,
    **extra: object,
) -> RecordedSpan:
    return RecordedSpan(
        span_id=span_id,
        parent_id=parent,
        name=name,
        kind="INTERNAL",
        start_ns=int(start_ms * 1_000_000),
        end_ns=int(end_ms * 1_000_000),
        error=bool(extra.get("error", False)),
        attributes=tuple(extra.get("attributes", ())),  # type: ignore[arg-type]
        links=tuple(extra.get("links", ())),  # type: ignore[arg-type]
    )


def _recorder() -> SpanRecorder:
    recorder = SpanRecorder(max_traces=5)
    recorder.activate()
    return recorder


def _rows(html: str) -> list[str]:
    """Each row's span cell as text (hidden "in PARENT" included)."""
    cells = re.findall(r'<th scope="row" class="depth-(\d)">(.*?)</th>', html)
    return [f"{depth}:{re.sub(r'<[^>]+>', '', text)}" for depth, text in cells]


def test_without_a_recorder_the_page_says_how_to_turn_tracing_on() -> None:
    html = timeline_section({"trace_id": _TRACE, "status": "completed"}, SpanRecorder())
    assert "Tracing is off" in html
    assert "viksa-devtools[otel]" in ENABLE_TRACING
    assert "pip install &quot;viksa-devtools[otel]&quot;" in html


def test_a_run_not_ended_and_a_run_without_trace_say_so() -> None:
    recorder = _recorder()
    assert "once the run has ended" in timeline_section({"status": "running"}, recorder)
    assert "No trace was recorded" in timeline_section({"status": "completed"}, recorder)


def test_a_trace_no_longer_kept_says_how_many_are() -> None:
    html = timeline_section({"trace_id": _TRACE, "status": "completed"}, _recorder())
    assert "no longer kept" in html
    assert "latest 5 traces" in html


def test_spans_are_rows_nested_under_their_parents_with_offsets_and_bars() -> None:
    recorder = _recorder()
    # Recorded as the SDK ends them: children first.
    recorder.add(_TRACE, _span("v", "viksa.validate", 1, 2, parent="r"))
    recorder.add(_TRACE, _span("w", "viksa.worker.call echo", 4, 9, parent="u", error=True))
    recorder.add(_TRACE, _span("u", "viksa.run", 3, 10, parent="r"))
    recorder.add(
        _TRACE,
        _span("r", "POST /pulse/executor/execute", 0, 10, attributes=[("http.route", "/x")]),
    )
    html = timeline_section({"trace_id": _TRACE, "status": "failed"}, recorder)
    assert _rows(html) == [
        "0:POST /pulse/executor/execute",
        "1:viksa.validate (in POST /pulse/executor/execute)",
        "1:viksa.run (in POST /pulse/executor/execute)",
        "2:viksa.worker.call echo (in viksa.run)",
    ]
    assert "<td>4.0 ms</td><td>5.0 ms</td>" in html  # the worker call: offset, duration
    assert '<span class="badge bad">error</span>' in html
    assert "<code>http.route=/x</code>" in html
    # The bar of the worker call: 40% in, 50% wide, hidden from screen readers.
    assert '<rect x="40.00" y="0" width="50.00" height="4" class="bad">' in html
    assert html.count('aria-hidden="true"') == 4
    assert "style=" not in html  # the page's CSP allows no inline style
    assert f"<caption>This run: trace {_TRACE}, 4 spans</caption>" in html


def test_the_trace_that_started_a_background_run_is_shown_too() -> None:
    recorder = _recorder()
    recorder.add(_STARTER, _span("q", "POST /pulse/executor/invoke", 0, 1))
    recorder.add(_TRACE, _span("b", "viksa.background pulse.invoke", 2, 5, links=[_STARTER]))
    html = timeline_section({"trace_id": _TRACE, "status": "completed"}, recorder)
    assert f"Started by: trace {_STARTER}, 1 span" in html
    assert _rows(html) == ["0:viksa.background pulse.invoke", "0:POST /pulse/executor/invoke"]


def test_span_names_are_escaped() -> None:
    recorder = _recorder()
    recorder.add(_TRACE, _span("x", "<script>alert(1)</script>", 0, 1))
    html = timeline_section({"trace_id": _TRACE, "status": "completed"}, recorder)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
