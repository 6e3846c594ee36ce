"""The worker call as a span; its context restored in the child for the endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools.runner import AgentWorker, AsyncAgentWorker, EndpointError, _tracing

MANIFEST: dict[str, Any] = {
    "agent_name": "Traced Agent",
    "agent_description": "Reports the trace context its endpoint runs in.",
    "agent_type": "cloud",
    "files": [],
    "requirements": [],
    "inputs": [{"name": "note", "type": "string"}],
    "outputs": [],
    "agent_endpoints": [
        {
            "name": "where",
            "module": "main",
            "endpoint": "traced.main.where",
            "description": "Report the trace context and the envelope it would send onward",
            "inputs": [{"input_ref": "note", "required": False}],
            "execution_config": {"timeout_seconds": 20},
        },
        {
            "name": "fail",
            "module": "main",
            "endpoint": "traced.main.fail",
            "description": "Fail quoting the input",
            "inputs": [{"input_ref": "note", "required": False}],
            "execution_config": {"timeout_seconds": 20},
        },
    ],
}
MAIN = '''"""An agent for the tracing tests: reports the trace its endpoint runs in."""

from typing import Any

from ViksaAI import attach_envelope, context, mcp_endpoint, trace_context


@mcp_endpoint(description="Report the trace context and the envelope it would send onward")
async def where(payload: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {
        "trace_context": trace_context(),
        "envelope": dict(context()),
        "onward": attach_envelope({}, {"run_id": "next"}),
    }
    try:
        from opentelemetry import trace
    except ImportError:
        return found
    # The agent's own current span: the restored context of the runner's worker span.
    span = trace.get_current_span().get_span_context()
    found["otel"] = {"trace_id": f"{span.trace_id:032x}", "span_id": f"{span.span_id:016x}"}
    return found


@mcp_endpoint(description="Fail quoting the input")
async def fail(payload: dict[str, Any]) -> None:
    raise ValueError(f"cannot use {payload.get('note')}")
'''


@pytest.fixture
def agent(tmp_path: Path) -> Path:
    """A folder holding the traced agent (an agent.json and main.py)."""
    (tmp_path / "agent.json").write_text(json.dumps(MANIFEST))
    (tmp_path / "main.py").write_text(MAIN)
    return tmp_path


CALLER = "00-11111111111111111111111111111111-2222222222222222-01"


def _ids(span: Any) -> tuple[str, str]:
    context = span.get_span_context()
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


async def test_the_endpoint_runs_inside_the_worker_span(agent: Path, otel_spans: Any) -> None:
    from opentelemetry import trace

    async with AsyncAgentWorker(agent) as worker:
        with trace.get_tracer("test").start_as_current_span("caller") as caller:
            result = await worker.call("where", {"note": "secret-input-value"})

    worker_span = next(s for s in otel_spans.get_finished_spans() if s.name.startswith("viksa."))
    assert worker_span.name == "viksa.worker.call where"
    assert worker_span.parent is not None
    assert worker_span.parent.span_id == caller.get_span_context().span_id
    trace_id, span_id = _ids(worker_span)
    seen = result.value
    assert seen["trace_context"]["traceparent"].split("-")[1:3] == [trace_id, span_id]
    # opentelemetry is installed here: the child restored the context for the agent.
    assert seen["otel"] == {"trace_id": trace_id, "span_id": span_id}
    # An A2A call the endpoint makes carries the same trace to the next agent.
    onward = seen["onward"]["__viksa_a2a__"]["trace_context"]
    assert onward["traceparent"].split("-")[1] == trace_id
    assert dict(worker_span.attributes) == {"viksa.endpoint": "where"}


async def test_the_envelope_trace_is_the_parent_when_none_is_current(
    agent: Path, otel_spans: Any
) -> None:
    envelope = {"run_id": "r1", "trace_context": {"traceparent": CALLER}}
    async with AsyncAgentWorker(agent) as worker:
        result = await worker.call("where", {}, envelope=envelope)

    [span] = otel_spans.get_finished_spans()
    assert span.parent is not None
    assert f"{span.parent.trace_id:032x}" == "1" * 32
    assert f"{span.parent.span_id:016x}" == "2" * 16
    assert span.parent.is_remote
    assert result.value["envelope"]["trace_context"] == {"traceparent": CALLER}
    assert result.value["otel"]["trace_id"] == "1" * 32


async def test_an_envelope_of_another_trace_wins_and_the_current_span_is_linked(
    agent: Path, otel_spans: Any
) -> None:
    from opentelemetry import trace

    envelope = {"run_id": "r1", "trace_context": {"traceparent": CALLER}}
    async with AsyncAgentWorker(agent) as worker:
        with trace.get_tracer("test").start_as_current_span("platform") as platform:
            await worker.call("where", {}, envelope=envelope)
    span = next(s for s in otel_spans.get_finished_spans() if s.name.startswith("viksa."))
    assert span.parent is not None
    assert f"{span.parent.trace_id:032x}" == "1" * 32
    assert [link.context.span_id for link in span.links] == [platform.get_span_context().span_id]


async def test_a_failed_call_is_recorded_without_its_message(agent: Path, otel_spans: Any) -> None:
    async with AsyncAgentWorker(agent) as worker:
        with pytest.raises(EndpointError):
            await worker.call("fail", {"note": "secret-input-value"})
    [span] = otel_spans.get_finished_spans()
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["error.type"] == "endpoint_error"
    assert span.status.description == "endpoint_error"
    texts = [str(v) for e in span.events for v in (e.attributes or {}).values()]
    assert all("secret-input-value" not in text for text in texts)


def test_the_sync_worker_keeps_the_callers_trace(agent: Path, otel_spans: Any) -> None:
    from opentelemetry import trace

    with AgentWorker(agent) as worker, trace.get_tracer("test").start_as_current_span("s") as s:
        result = worker.call("where", {})
    span = next(x for x in otel_spans.get_finished_spans() if x.name.startswith("viksa."))
    assert span.parent is not None
    assert span.parent.span_id == s.get_span_context().span_id
    assert result.value["otel"]["trace_id"] == f"{s.get_span_context().trace_id:032x}"


async def test_a_traced_call_keeps_the_traceback_to_the_agents_frames(
    agent: Path, otel_spans: Any
) -> None:
    async with AsyncAgentWorker(agent) as worker:
        with pytest.raises(EndpointError) as caught:
            await worker.call("fail", {"note": "n"})
    assert otel_spans.get_finished_spans()  # the call was traced
    traceback = caught.value.traceback or ""
    assert "_child_trace" not in traceback
    assert traceback.splitlines()[1].strip().startswith('File "')
    assert "main.py" in traceback.splitlines()[1]


def test_without_a_tracer_provider_a_call_is_spanned_only_to_carry_a_trace(
    no_tracer_provider: None,
) -> None:
    from opentelemetry import context, trace

    from viksa_ai.runtime import A2A_TRACE_KEY

    # Nothing current, nothing carried: the shared no-op, as without opentelemetry.
    assert _tracing.worker_span("a.main.f", None) is _tracing._UNTRACED
    assert _tracing.worker_span("a.main.f", {"run_id": "r"}) is _tracing._UNTRACED
    # A trace to carry on (the envelope's, or one current here) gets a span.
    carried = {A2A_TRACE_KEY: {"traceparent": f"00-{'1' * 32}-{'2' * 16}-01"}}
    with _tracing.worker_span("a.main.f", carried) as carrier:
        assert carrier is not None
        assert "1" * 32 in carrier["traceparent"]
    caller = trace.SpanContext(
        trace_id=int("3" * 32, 16),
        span_id=int("4" * 16, 16),
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    token = context.attach(trace.set_span_in_context(trace.NonRecordingSpan(caller)))
    try:
        with _tracing.worker_span("a.main.f", None) as carrier:
            assert carrier is not None
            assert "3" * 32 in carrier["traceparent"]
    finally:
        context.detach(token)
