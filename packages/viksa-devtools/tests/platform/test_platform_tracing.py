"""The local platform's spans: OTLP export for ``viksa dev --otlp-endpoint``, and off switches.

The trace through the client, the platform and the runner is tested end to end in
tests-integration/test_tracing.py.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform._spans import RECORDER, SAFE_ATTRIBUTES
from viksa_ai.devtools.platform.http._dashboard._timeline import timeline_section


@pytest.fixture
def collector(otlp_collector: Callable[..., tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
    """An OTLP/HTTP collector stand-in on 127.0.0.1: its URL and the requests it received."""
    return otlp_collector()


FreshPython = Callable[..., subprocess.CompletedProcess[str]]


def test_otlp_endpoint_exports_the_platforms_spans(
    collector: tuple[str, list[Any]], fresh_python: FreshPython
) -> None:
    url, received = collector
    done = fresh_python(
        f"""
        import asyncio
        from opentelemetry import trace
        from viksa_ai.devtools.platform import LocalPlatform
        from viksa_ai.devtools._otlp import configure_otlp

        assert configure_otlp({url!r}, command="test", service_name="viksa-dev") is None

        async def main():
            local = LocalPlatform.start()
            try:
                async with local.async_client() as client:
                    await client.auth.me()
            finally:
                await local.aclose()

        asyncio.run(main())
        trace.get_tracer_provider().force_flush()
        """
    )
    assert done.returncode == 0, done.stderr
    assert received, "nothing was exported"
    path, content_type, body = received[0]
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    assert b"/auth/me" in body
    assert b"viksa-dev" in body  # the service name


def test_otlp_endpoint_without_the_exporter_is_one_clear_line(fresh_python: FreshPython) -> None:
    done = fresh_python(
        """
        import sys
        # As if opentelemetry-exporter-otlp-proto-http were not installed.
        sys.modules["opentelemetry.exporter.otlp.proto.http.trace_exporter"] = None
        from viksa_ai.devtools.cli import main
        sys.exit(main(["dev", "--memory", "--otlp-endpoint", "http://127.0.0.1:9/v1/traces"]))
        """
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "--otlp-endpoint needs" in done.stderr
    assert "pip install 'viksa-devtools[otlp]'" in done.stderr


async def test_fastapis_own_telemetry_is_off(otel_spans: Any) -> None:
    # Its spans would hold raw paths with ids: only the platform's own spans are made.
    local = LocalPlatform.start()
    try:
        transport = httpx.ASGITransport(app=local.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            answer = await http.get("/builder/agent/ag-missing-id", headers={"traceparent": "x"})
    finally:
        await local.aclose()
    assert answer.status_code in (401, 403)
    [span] = otel_spans.get_finished_spans()
    assert span.name == "GET /builder/agent/{agent_id}"
    assert all("ag-missing-id" not in str(value) for value in span.attributes.values())
    assert span.parent is None  # a malformed traceparent starts a new trace


_ENVELOPE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
_ENVELOPE_SPAN = "00f067aa0ba902b7"
_ENGINE_STEPS = ("viksa.validate", "viksa.run", "viksa.queue", "viksa.worker.call echo")


def _by_name(spans: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for span in spans:
        assert span.name not in found, f"two spans named {span.name}"
        found[span.name] = span
    return found


def _with_envelope(agent: dict[str, Any]) -> dict[str, Any]:
    envelope = {
        "run_id": "run-1",
        "caller_agent": "caller",
        "callee_agent": agent["agent_alias"],
        "endpoint": f"{agent['agent_alias']}.main.echo",
        "trace_context": {"traceparent": f"00-{_ENVELOPE_TRACE}-{_ENVELOPE_SPAN}-01"},
    }
    return {
        "agent_id": agent["id"],
        "agent_type": "cloud",
        "endpoint": f"{agent['agent_alias']}.main.echo",
        "inputs": {"text": "hi", "__viksa_a2a__": envelope},
    }


async def test_without_trace_headers_the_engine_continues_the_envelopes_trace(
    otel_spans: Any,
    http: httpx.AsyncClient,
    deployed: dict[str, Any],
    viksa_platform: LocalPlatform,
) -> None:
    answer = await http.post("/pulse/executor/execute", json=_with_envelope(deployed))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "completed"
    assert "trace_id" not in answer.json()  # the wire answer is unchanged
    spans = _by_name(otel_spans.get_finished_spans())
    route = spans["POST /pulse/executor/execute"]
    execute = spans["viksa.execute"]
    envelope_trace = int(_ENVELOPE_TRACE, 16)
    # The route span began before the body was read: a trace of its own, linked.
    assert route.parent is None
    assert route.context.trace_id != envelope_trace
    assert [link.context.span_id for link in execute.links] == [route.context.span_id]
    assert execute.parent.span_id == int(_ENVELOPE_SPAN, 16)
    for name in ("viksa.execute", *_ENGINE_STEPS):
        assert spans[name].context.trace_id == envelope_trace, name
    assert spans["viksa.validate"].parent.span_id == execute.context.span_id
    assert spans["viksa.run"].parent.span_id == execute.context.span_id
    assert spans["viksa.worker.call echo"].parent.span_id == spans["viksa.run"].context.span_id
    record = viksa_platform.platform.engine.get_execution(
        viksa_platform.credentials.project_id, answer.json()["execution_id"]
    )
    assert record["trace_id"] == _ENVELOPE_TRACE
    # The run's own span, whose subtree its timeline shows: the envelope's caller is
    # elsewhere (a remote parent), and the link names the route span, not only its trace.
    assert record["span_id"] == format(execute.context.span_id, "016x")
    assert "span_id" not in answer.json()
    kept = RECORDER.trace(_ENVELOPE_TRACE)
    assert kept is not None
    [own] = [span for span in kept.spans if span.span_id == record["span_id"]]
    assert own.remote_parent
    route_ids = (format(route.context.trace_id, "032x"), format(route.context.span_id, "016x"))
    assert own.links == (route_ids,)
    assert [span.name for span in kept.subtree(own.span_id)] == ["viksa.execute", *_ENGINE_STEPS]


async def test_trace_headers_win_over_the_envelopes_trace(
    otel_spans: Any, http: httpx.AsyncClient, deployed: dict[str, Any]
) -> None:
    caller_trace = "0af7651916cd43dd8448eb211c80319c"
    headers = {"traceparent": f"00-{caller_trace}-b7ad6b7169203331-01"}
    answer = await http.post(
        "/pulse/executor/execute", json=_with_envelope(deployed), headers=headers
    )
    assert answer.status_code == 200, answer.text
    spans = _by_name(otel_spans.get_finished_spans())
    assert "viksa.execute" not in spans
    route = spans["POST /pulse/executor/execute"]
    assert route.context.trace_id == int(caller_trace, 16)
    assert spans["viksa.validate"].parent.span_id == route.context.span_id
    assert spans["viksa.run"].context.trace_id == int(caller_trace, 16)


async def _finished_once_ended(otel_spans: Any, name: str) -> tuple[Any, ...]:
    """The finished spans, once ``name`` has ended (a background run's root)."""
    for _ in range(600):  # the run ends in the background: up to 60 s
        if any(span.name == name for span in otel_spans.get_finished_spans()):
            break
        await asyncio.sleep(0.1)
    return tuple(otel_spans.get_finished_spans())


async def _once_ended(otel_spans: Any, name: str) -> dict[str, Any]:
    """The finished spans by name, once ``name`` has ended (a background run's root)."""
    return _by_name(await _finished_once_ended(otel_spans, name))


async def test_a_background_run_has_a_root_span_linked_to_the_request(
    otel_spans: Any,
    http: httpx.AsyncClient,
    deployed: dict[str, Any],
    execute: Callable[..., dict[str, Any]],
    viksa_platform: LocalPlatform,
) -> None:
    answer = await http.post("/pulse/executor/invoke", json=execute(deployed, "echo", text="hi"))
    assert answer.status_code == 202, answer.text
    spans = await _once_ended(otel_spans, "viksa.background pulse.invoke")
    route = spans["POST /pulse/executor/invoke"]
    root = spans["viksa.background pulse.invoke"]
    assert root.parent is None
    assert root.context.trace_id != route.context.trace_id
    assert [link.context.span_id for link in root.links] == [route.context.span_id]
    assert dict(root.attributes) == {
        "viksa.source": "pulse.invoke",
        "viksa.endpoint": "echo.main.echo",
    }
    assert spans["viksa.validate"].parent.span_id == route.context.span_id
    assert spans["viksa.run"].parent.span_id == root.context.span_id
    assert spans["viksa.worker.call echo"].context.trace_id == root.context.trace_id
    record = viksa_platform.platform.engine.get_execution(
        viksa_platform.credentials.project_id, answer.json()["invocation_id"]
    )
    assert record["status"] == "completed"
    assert record["trace_id"] == format(root.context.trace_id, "032x")
    assert record["span_id"] == format(root.context.span_id, "016x")


def test_the_recorder_is_fed_once_and_keeps_only_safe_attributes_and_errors(
    otel_spans: Any,
) -> None:
    from opentelemetry import trace

    from viksa_ai.devtools.platform._tracing import attach_recorder

    assert attach_recorder()
    assert attach_recorder()
    attributes = {"viksa.endpoint": "a.main.b", "url.full": "http://x/?token=t0k3n"}
    tracer = trace.get_tracer("test")
    with (
        tracer.start_as_current_span("once", attributes=attributes) as span,
        tracer.start_as_current_span("failed") as failed,
    ):
        failed.set_status(trace.StatusCode.ERROR)
    kept = RECORDER.trace(format(span.get_span_context().trace_id, "032x"))
    assert kept is not None
    root, child = kept.spans
    assert (root.name, root.attributes, root.error) == (
        "once",
        (("viksa.endpoint", "a.main.b"),),
        False,
    )
    assert (child.name, child.error, child.parent_id) == ("failed", True, root.span_id)


_EXAMPLES = Path(__file__).resolve().parents[4] / "examples"


def _viksa(*args: str) -> subprocess.CompletedProcess[str]:
    code = f"import sys; from viksa_ai.devtools.cli import main; sys.exit(main({list(args)!r}))"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_viksa_run_otlp_endpoint_exports_the_worker_call(
    collector: tuple[str, list[Any]],
) -> None:
    url, received = collector
    agent = str(_EXAMPLES / "text_tools_agent")
    done = _viksa("run", agent, "word_stats", "-i", "text=to be", "--otlp-endpoint", url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["words"] == 2
    assert received, "nothing was exported"
    path, content_type, body = received[0]
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    assert b"viksa.worker.call word_stats" in body
    assert b"viksa-run" in body  # the service name
    assert b"to be" not in body  # no input value


def test_viksa_run_otlp_endpoint_without_the_exporter_is_a_usage_error(
    fresh_python: FreshPython,
) -> None:
    done = fresh_python(
        f"""
        import sys
        sys.modules["opentelemetry.exporter.otlp.proto.http.trace_exporter"] = None
        from viksa_ai.devtools.cli import main
        agent = {str(_EXAMPLES / "text_tools_agent")!r}
        sys.exit(main(["run", agent, "word_stats", "-i", "text=x", "--format", "json",
                       "--otlp-endpoint", "http://127.0.0.1:9/v1/traces"]))
        """
    )
    assert done.returncode == 2
    assert done.stdout == ""
    error = json.loads(done.stderr)["error"]
    assert error["kind"] == "usage"
    assert error["message"].startswith("viksa run: --otlp-endpoint needs")
    assert "pip install 'viksa-devtools[otlp]'" in error["message"]


async def test_a_started_workflow_runs_in_a_trace_of_its_own(
    otel_spans: Any, http: httpx.AsyncClient, deployed: dict[str, Any]
) -> None:
    step = {"id": "s0", "agent_id": deployed["id"], "endpoint": "echo.main.echo"}
    body = {"name": "wf", "steps": [{**step, "inputs": {"text": "a"}}]}
    workflow = (await http.post("/workflow/create", json=body)).json()
    started = await http.post("/workflow/start", json={"workflow_id": workflow["id"]})
    assert started.status_code < 300, started.text
    spans = await _once_ended(otel_spans, "viksa.background workflow.started")
    root = spans["viksa.background workflow.started"]
    route = spans["POST /workflow/start"]
    assert root.parent is None
    assert [link.context.span_id for link in root.links] == [route.context.span_id]
    assert spans["viksa.run"].context.trace_id == root.context.trace_id


async def test_each_workflow_step_has_its_own_span_and_its_page_shows_only_that_step(
    otel_spans: Any,
    http: httpx.AsyncClient,
    deployed: dict[str, Any],
    viksa_platform: LocalPlatform,
) -> None:
    step = {"agent_id": deployed["id"], "endpoint": "echo.main.echo"}
    steps = [{**step, "id": name, "inputs": {"text": f"secret-{name}"}} for name in ("s0", "s1")]
    workflow = (await http.post("/workflow/create", json={"name": "wf", "steps": steps})).json()
    started = await http.post("/workflow/start", json={"workflow_id": workflow["id"]})
    assert started.status_code < 300, started.text
    finished = await _finished_once_ended(otel_spans, "viksa.background workflow.started")
    (root,) = [s for s in finished if s.name == "viksa.background workflow.started"]
    store = viksa_platform.platform.store
    run = store.get("workflow_execution", started.json()["id"])
    assert run is not None
    tasks = run["tasks"]
    assert [t["status"] for t in tasks] == ["completed", "completed"]
    for task, other in zip(tasks, reversed(tasks), strict=True):
        name = f"viksa.workflow.step {task['step_id']}"
        (span,) = [s for s in finished if s.name == name]
        assert span.parent.span_id == root.context.span_id
        assert dict(span.attributes) == {
            "viksa.source": "workflow",
            "viksa.endpoint": "echo.main.echo",
        }
        assert set(span.attributes) <= SAFE_ATTRIBUTES
        record = store.get("execution", task["execution_id"])
        assert record is not None
        assert record["span_id"] == format(span.context.span_id, "016x")
        assert record["trace_id"] == format(root.context.trace_id, "032x")
        page = timeline_section(record, RECORDER)
        assert name in page
        assert "viksa.run" in page
        assert f"viksa.workflow.step {other['step_id']}" not in page
        assert "viksa.background" not in page
        assert "secret-" not in page


def test_without_a_tracer_provider_no_span_is_made_and_the_callers_trace_reaches_the_agent(
    fresh_python: FreshPython,
) -> None:
    # FastAPI imports opentelemetry.trace itself: that alone must not turn the spans on
    # (they cost every request), yet a caller's traceparent still reaches the agent's
    # process as OpenTelemetry's no-op spans carried it before.
    done = fresh_python(
        """
        import asyncio
        import json

        import httpx

        from viksa_ai.devtools.platform import LocalPlatform
        from viksa_ai.devtools.platform import _tracing

        MAIN = '''from typing import Any, Dict

        from viksa_ai.runtime import mcp_endpoint, trace_context


        @mcp_endpoint(description="The trace context the call runs in")
        async def ctx(payload: Dict[str, Any]):
            return trace_context()
        '''
        MANIFEST = {
            "agent_name": "Ctx", "agent_alias": "ctx", "agent_description": "trace context",
            "files": [{"name": "main.py", "content": MAIN, "mime_type": "python"}],
            "inputs": [], "outputs": [],
            "agent_endpoints": [{"name": "ctx", "module": "main", "description": "ctx"}],
        }
        TRACE_ID = "0af7651916cd43dd8448eb211c80319c"

        async def main():
            assert not _tracing._recording()
            assert _tracing.step("viksa.run") is _tracing._UNTRACED
            local = LocalPlatform.start()
            headers = {"Authorization": f"Bearer {local.credentials.api_key}"}
            transport = httpx.ASGITransport(app=local.app)
            try:
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://127.0.0.1", headers=headers
                ) as http:
                    agent = (await http.post("/builder/agent/create", json=MANIFEST)).json()
                    for step in ("/builder/builder/", "/builder/deploy/"):
                        await http.post(step, json={"agent_id": agent["id"]})
                    body = {"agent_id": agent["id"], "agent_type": "cloud",
                            "endpoint": "ctx.main.ctx", "inputs": {}}
                    answer = await http.post(
                        "/pulse/executor/execute", json=body,
                        headers={"traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"},
                    )
                    untraced = await http.post("/pulse/executor/execute", json=body)
            finally:
                await local.aclose()
            print(json.dumps([answer.json()["response"], untraced.json()["response"]]))

        asyncio.run(main())
        """
    )
    assert done.returncode == 0, done.stderr
    traced, untraced = json.loads(done.stdout.strip().splitlines()[-1])
    assert traced["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
    assert untraced == {}


def test_a_request_begun_without_a_provider_is_untraced_throughout_and_then_asks_again(
    fresh_python: FreshPython,
) -> None:
    # The steps and worker call of a request begun without a tracer provider take that
    # answer from the request (asking reads the environment, several times a request);
    # once it ends, a run it started and the next request ask again.
    done = fresh_python(
        """
        import asyncio
        import json

        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider

        from viksa_ai.devtools.platform import _tracing
        from viksa_ai.devtools.runner._tracing import recording

        seen = {}
        ended = asyncio.Event()

        async def later():
            await ended.wait()
            return _tracing.step("viksa.run") is _tracing._UNTRACED

        async def app(scope, receive, send):
            key = "first" if "first" not in seen else "second"
            seen[key] = _tracing.step("viksa.run") is _tracing._UNTRACED
            if key == "first":
                trace.set_tracer_provider(TracerProvider())
                seen["first, provider set"] = _tracing.step("viksa.run") is _tracing._UNTRACED
                seen["worker call, provider set"] = recording()
                seen["task"] = asyncio.get_running_loop().create_task(later())

        async def main():
            middleware = _tracing.TracingMiddleware(app)
            scope = {"type": "http", "method": "GET", "headers": []}
            await middleware(scope, None, None)
            ended.set()
            seen["run started by it, after it"] = await seen.pop("task")
            await middleware(scope, None, None)
            print(json.dumps(seen))

        asyncio.run(main())
        """
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "first": True,
        "first, provider set": True,
        "worker call, provider set": False,
        "run started by it, after it": False,
        "second": False,
    }


def test_the_otlp_export_is_bounded_per_request_and_at_exit(fresh_python: FreshPython) -> None:
    # A collector that never answers held `viksa run` ~10 s at exit (OpenTelemetry's
    # defaults: 10 s per request, 30 s for the shutdown); see test_otlp_export_bounds.
    done = fresh_python(
        """
        from opentelemetry import trace
        from viksa_ai.devtools._otlp import EXPORT_TIMEOUT_SECONDS, configure_otlp

        url = "http://127.0.0.1:9/v1/traces"
        assert configure_otlp(url, command="test", service_name="test") is None
        provider = trace.get_tracer_provider()
        [processor] = provider._active_span_processor._span_processors
        assert processor.span_exporter.wrapped._client._timeout == EXPORT_TIMEOUT_SECONDS
        seen = []
        processor._batch_processor.shutdown = lambda **kw: seen.append(kw)
        provider.shutdown()
        assert seen == [{"timeout_millis": int(EXPORT_TIMEOUT_SECONDS * 1000)}], seen
        """
    )
    assert done.returncode == 0, done.stderr


def test_an_otel_timeout_variable_sets_the_otlp_request_timeout(fresh_python: FreshPython) -> None:
    done = fresh_python(
        """
        import os
        os.environ["OTEL_EXPORTER_OTLP_TIMEOUT"] = "7"
        from opentelemetry import trace
        from viksa_ai.devtools._otlp import configure_otlp

        url = "http://127.0.0.1:9/v1/traces"
        assert configure_otlp(url, command="t", service_name="t") is None
        [processor] = trace.get_tracer_provider()._active_span_processor._span_processors
        assert processor.span_exporter.wrapped._client._timeout == 7
        """
    )
    assert done.returncode == 0, done.stderr
