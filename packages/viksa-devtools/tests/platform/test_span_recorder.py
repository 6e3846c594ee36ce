"""The dashboard's span recorder: bounded (oldest traces go first), thread-safe, safe attributes."""

from __future__ import annotations

import threading

import pytest

from viksa_ai.devtools.platform._spans import RecordedSpan, SpanRecorder, safe_attributes


def _span(span_id: str, start: int = 0, parent: str | None = None) -> RecordedSpan:
    return RecordedSpan(
        span_id=span_id,
        parent_id=parent,
        name=f"span {span_id}",
        kind="INTERNAL",
        start_ns=start,
        end_ns=start + 10,
        error=False,
    )


def test_the_oldest_trace_is_evicted_when_the_recorder_is_full() -> None:
    recorder = SpanRecorder(max_traces=3, max_spans=10)
    for trace_id in ("t1", "t2", "t3", "t4"):
        recorder.add(trace_id, _span("a"))
    assert recorder.trace("t1") is None
    assert list(recorder.trace_ids()) == ["t2", "t3", "t4"]


def test_a_trace_that_gets_a_new_span_is_kept_over_older_ones() -> None:
    recorder = SpanRecorder(max_traces=2, max_spans=10)
    recorder.add("t1", _span("a"))
    recorder.add("t2", _span("a"))
    recorder.add("t1", _span("b"))  # t1 is now the most recently updated
    recorder.add("t3", _span("a"))
    assert recorder.trace("t2") is None
    kept = recorder.trace("t1")
    assert kept is not None
    assert [span.span_id for span in kept.spans] == ["a", "b"]


def test_spans_past_the_limit_of_a_trace_are_counted_not_kept() -> None:
    recorder = SpanRecorder(max_traces=2, max_spans=3)
    for index in range(5):
        recorder.add("t", _span(str(index), start=index))
    kept = recorder.trace("t")
    assert kept is not None
    assert [span.span_id for span in kept.spans] == ["0", "1", "2"]
    assert kept.dropped == 2


def test_a_trace_lists_its_spans_in_start_order() -> None:
    recorder = SpanRecorder()
    # Children end (and are recorded) before their parent.
    recorder.add("t", _span("child", start=5, parent="root"))
    recorder.add("t", _span("root", start=1))
    kept = recorder.trace("t")
    assert kept is not None
    assert [span.span_id for span in kept.spans] == ["root", "child"]


def _feed_from_threads(recorder: SpanRecorder, threads: int, spans: int) -> None:
    start = threading.Barrier(threads)

    def feed(worker: int) -> None:
        start.wait()
        for index in range(spans):
            recorder.add(f"t{index % 100}", _span(f"{worker}-{index}"))

    running = [threading.Thread(target=feed, args=(n,)) for n in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()


def test_threads_adding_at_once_lose_no_span() -> None:
    recorder = SpanRecorder(max_traces=100, max_spans=1000)
    _feed_from_threads(recorder, threads=8, spans=500)
    kept = [recorder.trace(trace_id) for trace_id in recorder.trace_ids()]
    assert sum(len(t.spans) for t in kept if t is not None) == 8 * 500
    assert all(t is not None and t.dropped == 0 for t in kept)


def test_threads_adding_at_once_keep_the_bounds() -> None:
    recorder = SpanRecorder(max_traces=30, max_spans=7)
    _feed_from_threads(recorder, threads=8, spans=500)
    ids = recorder.trace_ids()
    assert len(ids) == 30
    for trace_id in ids:
        kept = recorder.trace(trace_id)
        assert kept is not None
        assert len(kept.spans) <= 7


def test_only_safe_attributes_are_kept() -> None:
    kept = safe_attributes(
        {
            "http.route": "/builder/agent/{agent_id}",
            "viksa.endpoint": "echo.main.echo",
            "url.full": "http://x/?token=abc",
            "http.request.header.authorization": "Bearer abc",
            "error.type": "RuntimeError",
        }
    )
    assert kept == (
        ("error.type", "RuntimeError"),
        ("http.route", "/builder/agent/{agent_id}"),
        ("viksa.endpoint", "echo.main.echo"),
    )
    assert safe_attributes(None) == ()


def test_a_recorder_keeps_at_least_one_span() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SpanRecorder(max_traces=0)
