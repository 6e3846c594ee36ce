"""The local platform's spans: OTLP export for ``viksa dev --otlp-endpoint``, and off switches.

The trace through the client, the platform and the runner is tested end to end in
tests-integration/test_tracing.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """An OTLP/HTTP collector stand-in on 127.0.0.1: the requests it received."""
    received: list[tuple[str, str, bytes]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_otlp_endpoint_exports_the_platforms_spans(
    collector: tuple[str, list[tuple[str, str, bytes]]],
) -> None:
    url, received = collector
    done = _python(
        f"""
        import asyncio
        from opentelemetry import trace
        from viksa_ai.devtools.platform import LocalPlatform
        from viksa_ai.devtools.platform._tracing import configure_otlp

        assert configure_otlp({url!r}) is None

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


def test_otlp_endpoint_without_the_exporter_is_one_clear_line() -> None:
    done = _python(
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


def test_without_a_tracer_provider_no_span_is_made_and_the_callers_trace_reaches_the_agent() -> (
    None
):
    # FastAPI imports opentelemetry.trace itself: that alone must not turn the spans on
    # (they cost every request), yet a caller's traceparent still reaches the agent's
    # process as OpenTelemetry's no-op spans carried it before.
    done = _python(
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
