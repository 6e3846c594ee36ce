"""OpenTelemetry spans of client calls: one per logical call, context injected, no secrets."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from viksa_ai.client import RetryConfig, ViksaClient, ViksaNotFoundError, ViksaSyncClient

TOKEN = "tok-access-1"
FAST = RetryConfig(max_retries=2, initial_delay=0.5, max_delay=8.0)  # sleeps are faked
SECRET_ID = "sec-1234-unique-id"
PASSPHRASE = "pass-phrase-never-traced"


def _values(span: Any) -> list[str]:
    found = [str(value) for value in (span.attributes or {}).values()]
    for event in span.events:
        found.extend(str(value) for value in (event.attributes or {}).values())
    return [*found, span.name]


def _traceparent(span: Any) -> str:
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


async def test_one_span_per_call_with_the_route_template(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], otel_spans: Any
) -> None:
    route = api.get(f"/builder/secret/{SECRET_ID}").respond(
        200, json={"id": SECRET_ID}, headers={"X-Request-Id": "req-42"}
    )
    client = make_client()
    await client.builder.secrets.get_secret(SECRET_ID, passphrase=PASSPHRASE)

    [span] = otel_spans.get_finished_spans()
    assert span.name == "GET /builder/secret/{}"
    assert span.kind.name == "CLIENT"
    assert dict(span.attributes) == {
        "http.request.method": "GET",
        "url.template": "/builder/secret/{}",
        "viksa.service": "builder",
        "http.response.status_code": 200,
        "viksa.request_id": "req-42",
        "viksa.attempts": 1,
    }
    sent = route.calls.last.request
    assert sent.headers["traceparent"] == _traceparent(span)
    # Neither the id in the path, the query value nor the token is in the span.
    for value in _values(span):
        assert SECRET_ID not in value
        assert PASSPHRASE not in value
        assert TOKEN not in value


async def test_the_call_joins_the_callers_trace(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], otel_spans: Any
) -> None:
    from opentelemetry import trace

    api.post("/pulse/executor/execute").respond(
        200, json={"status": "completed", "execution_id": "exe-1", "endpoint": "a.main.f"}
    )
    client = make_client()
    with trace.get_tracer("test").start_as_current_span("script") as script:
        await client.pulse.execute(
            {"agent_id": "ag-1", "agent_type": "cloud", "endpoint": "a.main.f", "inputs": {}}
        )
    call, root = otel_spans.get_finished_spans()
    assert root is not None
    assert call.parent is not None
    assert call.parent.span_id == script.get_span_context().span_id
    assert call.context.trace_id == script.get_span_context().trace_id


async def test_retries_are_events_and_attempts_are_counted(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], otel_spans: Any
) -> None:
    route = api.get("/auth/me").mock(
        side_effect=[
            httpx.Response(503, json={"detail": "busy"}),
            httpx.Response(200, json={"id": "u1", "email": "e@x.io", "account_id": "a1"}),
        ]
    )
    client = make_client(retry=FAST)
    await client.auth.me()

    [span] = otel_spans.get_finished_spans()
    assert span.attributes["viksa.attempts"] == 2
    assert span.attributes["http.request.resend_count"] == 1
    assert [event.name for event in span.events] == ["viksa.retry"]
    assert span.events[0].attributes["viksa.retry.reason"] == "status 503"
    # Every attempt carries the same call's context.
    assert {c.request.headers["traceparent"] for c in route.calls} == {_traceparent(span)}


async def test_an_error_is_recorded_without_its_message(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], otel_spans: Any
) -> None:
    api.get(f"/builder/agent/{SECRET_ID}").respond(404, json={"detail": f"no {PASSPHRASE}"})
    client = make_client()
    with pytest.raises(ViksaNotFoundError):
        await client.builder.agents.get(SECRET_ID)

    [span] = otel_spans.get_finished_spans()
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["error.type"] == "ViksaNotFoundError"
    assert span.attributes["http.response.status_code"] == 404
    assert [event.name for event in span.events] == ["exception"]
    assert all(PASSPHRASE not in value for value in _values(span))


async def test_a_refresh_is_an_event_and_a_child_call(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
    otel_spans: Any,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") == "Bearer tok-access-2":
            return httpx.Response(200, json={"id": "u1", "email": "e@x.io", "account_id": "a1"})
        return httpx.Response(401, json={"detail": "token expired"})

    api.get("/auth/me").mock(side_effect=answer)
    api.post("/auth/refresh").respond(200, json=tokens())
    client = make_client(refresh_token="tok-refresh-1")
    await client.auth.me()

    refresh, me = otel_spans.get_finished_spans()
    assert me.name == "GET /auth/me"
    assert [event.name for event in me.events] == ["viksa.token_refresh"]
    assert me.attributes["viksa.attempts"] == 2
    assert refresh.name == "POST /auth/refresh"
    assert refresh.parent is not None
    assert refresh.parent.span_id == me.context.span_id
    for span in (refresh, me):
        assert all("tok-" not in value for value in _values(span))


def test_the_sync_client_traces_the_same_way(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient], otel_spans: Any
) -> None:
    route = api.get("/auth/me").respond(
        200, json={"id": "u1", "email": "e@x.io", "account_id": "a1"}
    )
    make_sync_client().auth.me()
    [span] = otel_spans.get_finished_spans()
    assert span.name == "GET /auth/me"
    assert route.calls.last.request.headers["traceparent"] == _traceparent(span)


def test_without_opentelemetry_imported_nothing_is_loaded() -> None:
    # A fresh interpreter: the calls go through the pipeline, no opentelemetry module is
    # imported and no trace header is sent.
    script = textwrap.dedent(
        """
        import json, sys
        import httpx
        from viksa_ai.client import ViksaSyncClient

        seen = []
        def answer(request):
            seen.append(dict(request.headers))
            return httpx.Response(200, json={"id": "u1", "email": "e@x.io", "account_id": "a1"})

        http = httpx.Client(transport=httpx.MockTransport(answer), base_url="https://x.test")
        client = ViksaSyncClient(base_url="https://x.test", access_token="t", http_client=http)
        client.auth.me()
        loaded = sorted(m for m in sys.modules if m.startswith("opentelemetry"))
        print(json.dumps({"loaded": loaded, "traceparent": "traceparent" in seen[0]}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == {"loaded": [], "traceparent": False}


async def test_without_a_tracer_provider_a_call_makes_no_span_and_sends_no_context(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], no_tracer_provider: None
) -> None:
    # Nothing would record the span: the call costs what an untraced one does.
    route = api.get("/builder/agent/list").respond(200, json=[])
    await make_client().builder.agents.list()
    assert "traceparent" not in route.calls.last.request.headers


async def test_without_a_tracer_provider_a_current_trace_is_still_carried_on(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], no_tracer_provider: None
) -> None:
    from opentelemetry import context, trace

    # A trace started elsewhere (an instrumented server's request) and current here.
    caller = trace.SpanContext(
        trace_id=0x5CE0E9A56015FEC5AADFA328AE398115,
        span_id=0xAB54A98CEB1F0AD2,
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    route = api.get("/builder/agent/list").respond(200, json=[])
    token = context.attach(trace.set_span_in_context(trace.NonRecordingSpan(caller)))
    try:
        await make_client().builder.agents.list()
    finally:
        context.detach(token)
    sent = route.calls.last.request.headers["traceparent"]
    assert sent.split("-")[1] == f"{caller.trace_id:032x}"


QUERY_SECRET = "query-secret-never-traced"
FRAGMENT = "fragment-never-traced"


# client.request sends a caller's path as given and names the span after it: a query
# or fragment written into that path (/x?token=...) is a value all the same.
@pytest.mark.parametrize(
    "path",
    [
        f"/items?token={QUERY_SECRET}",
        f"/items?token={QUERY_SECRET}#{FRAGMENT}",
        f"/items#{FRAGMENT}",
    ],
)
async def test_a_query_in_a_raw_path_is_not_recorded(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], otel_spans: Any, path: str
) -> None:
    route = api.get("/builder/items").respond(200, json={})
    await make_client().request("GET", "/builder", path, params={"api_key": QUERY_SECRET})
    assert route.called  # sent as before
    [span] = otel_spans.get_finished_spans()
    assert span.name == "GET /builder/items"
    assert span.attributes["url.template"] == "/builder/items"
    for value in _values(span):
        assert QUERY_SECRET not in value
        assert FRAGMENT not in value


def test_the_sync_twin_records_no_query_either(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient], otel_spans: Any
) -> None:
    api.get("/builder/items").respond(200, json={})
    make_sync_client().request("GET", "/builder", f"/items?token={QUERY_SECRET}")
    [span] = otel_spans.get_finished_spans()
    assert span.name == "GET /builder/items"
    assert all(QUERY_SECRET not in value for value in _values(span))


_EVENTS = b'data: {"type": "execution.started"}\n\ndata: {"type": "execution.completed"}\n\n'


async def test_a_stream_is_one_span_in_the_callers_trace_that_ends_when_it_opens(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], otel_spans: Any
) -> None:
    from opentelemetry import trace

    sse = {"content-type": "text/event-stream"}
    route = api.get("/chat/execution/conv-1/stream").mock(
        side_effect=[
            httpx.Response(503, json={"detail": "busy"}),
            httpx.Response(200, content=_EVENTS + b"data: [DONE]\n\n", headers=sse),
        ]
    )
    client = make_client(retry=FAST)
    with trace.get_tracer("test").start_as_current_span("script") as script:
        events = client.chat.stream_execution("conv-1")
        seen = []
        async for event in events:
            # Opened: the call's span has ended; the caller's span is current again.
            assert trace.get_current_span() is script
            assert [s.name for s in otel_spans.get_finished_spans()] == [
                "GET /chat/execution/{}/stream"
            ]
            seen.append(event)
    assert len(seen) == 2
    stream, _ = otel_spans.get_finished_spans()
    assert stream.parent is not None
    assert stream.parent.span_id == script.get_span_context().span_id
    assert stream.attributes["viksa.attempts"] == 2
    assert stream.attributes["http.response.status_code"] == 200
    assert {c.request.headers["traceparent"] for c in route.calls} == {_traceparent(stream)}
    assert all("conv-1" not in value for value in _values(stream))


def test_the_sync_twins_stream_is_traced_the_same_way(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient], otel_spans: Any
) -> None:
    sse = {"content-type": "text/event-stream"}
    route = api.get("/chat/execution/conv-1/stream").respond(200, content=_EVENTS, headers=sse)
    assert len(list(make_sync_client().chat.stream_execution("conv-1"))) == 2
    [span] = otel_spans.get_finished_spans()
    assert span.name == "GET /chat/execution/{}/stream"
    assert route.calls.last.request.headers["traceparent"] == _traceparent(span)
