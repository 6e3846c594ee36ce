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
        remote_parent=bool(extra.get("remote_parent", False)),
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
    html = timeline_section({"trace_id": _TRACE, "span_id": "r", "status": "failed"}, recorder)
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
    link = (_STARTER, "q")
    recorder.add(_TRACE, _span("b", "viksa.background pulse.invoke", 2, 5, links=[link]))
    html = timeline_section({"trace_id": _TRACE, "span_id": "b", "status": "completed"}, recorder)
    assert f"Started by: trace {_STARTER}, 1 span" in html
    assert _rows(html) == ["0:viksa.background pulse.invoke", "0:POST /pulse/executor/invoke"]


def test_span_names_are_escaped() -> None:
    recorder = _recorder()
    recorder.add(_TRACE, _span("x", "<script>alert(1)</script>", 0, 1))
    html = timeline_section({"trace_id": _TRACE, "span_id": "x", "status": "completed"}, recorder)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


# -- a trace is not an account boundary: each run shows its own spans only --------------


def _two_accounts_in_one_trace(recorder: SpanRecorder, *, agent_span_recorded: bool) -> None:
    """B's agent calls A's agent: B route > B run > [B's agent] > A route > A run."""
    bob, alice = ("viksa.endpoint", "bob.main.ask"), ("viksa.endpoint", "alice.main.answer")
    recorder.add(_TRACE, _span("br", "POST /pulse/executor/execute", 0, 10))
    recorder.add(_TRACE, _span("bu", "viksa.run", 1, 9, parent="br", attributes=[bob]))
    recorder.add(_TRACE, _span("bw", "viksa.worker.call ask", 1, 9, parent="bu"))
    # The agent's own span is made in its worker process: never recorded. Without one,
    # the call's traceparent names the worker call itself as the parent.
    parent = "bw" if agent_span_recorded else "agent"
    recorder.add(
        _TRACE, _span("ar", "POST /pulse/executor/execute", 2, 8, parent, remote_parent=True)
    )
    recorder.add(_TRACE, _span("au", "viksa.run", 3, 7, parent="ar", attributes=[alice]))


def test_each_execution_of_a_shared_trace_shows_only_its_own_spans() -> None:
    recorder = _recorder()
    _two_accounts_in_one_trace(recorder, agent_span_recorded=False)
    alices = timeline_section(
        {"trace_id": _TRACE, "span_id": "ar", "status": "completed"}, recorder
    )
    bobs = timeline_section({"trace_id": _TRACE, "span_id": "br", "status": "completed"}, recorder)
    assert _rows(alices) == [
        "0:POST /pulse/executor/execute",
        "1:viksa.run (in POST /pulse/executor/execute)",
    ]
    assert "alice.main.answer" in alices
    assert "bob.main.ask" not in alices
    assert 'data-span="b' not in alices
    assert "2 spans" in alices
    assert _rows(bobs) == [
        "0:POST /pulse/executor/execute",
        "1:viksa.run (in POST /pulse/executor/execute)",
        "2:viksa.worker.call ask (in viksa.run)",
    ]
    assert "alice.main.answer" not in bobs
    assert 'data-span="a' not in bobs


def test_a_request_naming_a_recorded_span_as_its_parent_is_not_part_of_that_run() -> None:
    recorder = _recorder()
    _two_accounts_in_one_trace(recorder, agent_span_recorded=True)
    bobs = timeline_section({"trace_id": _TRACE, "span_id": "br", "status": "completed"}, recorder)
    alices = timeline_section(
        {"trace_id": _TRACE, "span_id": "ar", "status": "completed"}, recorder
    )
    assert "alice.main.answer" not in bobs
    assert "3 spans" in bobs
    # Nor does A's page name B's worker call as the parent of its route.
    assert "worker.call" not in alices
    assert "bob.main.ask" not in alices


def test_a_record_without_its_span_shows_no_spans_of_its_trace() -> None:
    recorder = _recorder()
    _two_accounts_in_one_trace(recorder, agent_span_recorded=False)
    html = timeline_section({"trace_id": _TRACE, "status": "completed"}, recorder)
    assert "<table" not in html
    assert "recorded before the timeline could tell its own spans" in html
    gone = timeline_section({"trace_id": _TRACE, "span_id": "zz", "status": "completed"}, recorder)
    assert "<table" not in gone
    assert "not among those kept" in gone


def test_started_by_shows_only_the_linked_requests_own_spans() -> None:
    recorder = _recorder()
    # The invoke request continued another caller's trace (``traceparent``): that
    # caller's span and its other children are not the starting request's.
    recorder.add(_STARTER, _span("c", "POST /pulse/executor/execute", 0, 9))
    recorder.add(
        _STARTER,
        _span("cv", "viksa.run", 0, 9, parent="c", attributes=[("viksa.endpoint", "other.main.x")]),
    )
    recorder.add(_STARTER, _span("q", "POST /pulse/executor/invoke", 1, 3, "c", remote_parent=True))
    recorder.add(_STARTER, _span("qv", "viksa.validate", 1, 2, parent="q"))
    other_link = ("ef" * 16, "e1")  # linked by a span that is not the run's own
    recorder.add(_TRACE, _span("b", "viksa.background pulse.invoke", 4, 8, links=[(_STARTER, "q")]))
    recorder.add(_TRACE, _span("u", "viksa.run", 5, 7, parent="b", links=[other_link]))
    recorder.add("ef" * 16, _span("e1", "POST /elsewhere", 0, 1))
    html = timeline_section({"trace_id": _TRACE, "span_id": "b", "status": "completed"}, recorder)
    assert f"Started by: trace {_STARTER}, 2 spans" in html
    assert _rows(html) == [
        "0:viksa.background pulse.invoke",
        "1:viksa.run (in viksa.background pulse.invoke)",
        "0:POST /pulse/executor/invoke",
        "1:viksa.validate (in POST /pulse/executor/invoke)",
    ]
    assert "other.main.x" not in html
    assert "/elsewhere" not in html
