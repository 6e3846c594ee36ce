"""Red team: with opentelemetry installed but not imported, nothing of ours imports it.

The promise (root README, Tracing): tracing costs nothing unless the application
imported ``opentelemetry.trace``. Checked in a fresh interpreter of this workspace
(where the API, the SDK and the OTLP exporter are installed) for the client (a call
and a stream), the runtime, the runner (a call whose envelope carries a trace, in
the parent and in the agent's own process) and ``viksa run``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

PROBE = Path(__file__).parent / "fixtures" / "runner_probe"
TRACE_PROBE = Path(__file__).parent / "fixtures" / "trace_probe"
CALLER = "00-11111111111111111111111111111111-2222222222222222-01"

_CODE = """
import asyncio, json, pathlib, sys
import httpx
import viksa_ai.runtime
from viksa_ai.client import ViksaClient
from viksa_ai.devtools.runner import AsyncAgentWorker
from viksa_ai.runtime import attach_envelope, trace_context

sent = []
def answer(request):
    sent.append(dict(request.headers))
    if request.url.path.endswith("/stream"):
        body = b'data: {"type": "execution.completed"}\\n\\ndata: [DONE]\\n\\n'
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    return httpx.Response(200, json={"id": "u1", "email": "e@x.io", "account_id": "a1"})

folder = pathlib.Path(sys.argv[1])
CALLER = "00-11111111111111111111111111111111-2222222222222222-01"

async def main():
    http = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="https://x.test")
    async with ViksaClient(
        base_url="https://x.test", access_token="t", http_client=http
    ) as client:
        await client.auth.me()
        async for _ in client.chat.stream_execution("c1"):
            pass
    envelope = {"run_id": "r", "trace_context": {"traceparent": CALLER}}
    async with AsyncAgentWorker(folder, sandbox=False) as worker:
        return (await worker.call("where", {}, envelope=envelope)).value

agent = asyncio.run(main())
print(json.dumps({
    "headers": [sorted(h) for h in sent],
    "runtime": trace_context(),
    "attached": attach_envelope({}, {"run_id": "r"}),
    "agent": agent,
    "loaded": sorted(m for m in sys.modules if m.startswith("opentelemetry")),
}))
"""


FreshPython = Callable[..., subprocess.CompletedProcess[str]]


def test_the_client_runtime_and_runner_import_nothing_of_opentelemetry(
    fresh_python: FreshPython,
) -> None:
    done = fresh_python(_CODE, str(TRACE_PROBE))
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["loaded"] == []
    assert len(facts["headers"]) == 2
    assert all("traceparent" not in headers for headers in facts["headers"])
    assert facts["runtime"] == {}
    assert facts["agent"]["loaded"] == []  # nor in the agent's process
    # The envelope's trace still reaches the agent, as strings.
    assert facts["agent"]["trace_context"]["traceparent"].startswith("00-1111")


def test_viksa_run_imports_nothing_of_opentelemetry_without_the_flag(
    fresh_python: FreshPython,
) -> None:
    envelope = json.dumps({"run_id": "r", "trace_context": {"traceparent": CALLER}})
    argv = ["run", str(PROBE), "echo", "--no-sandbox", "--format", "json", "--envelope", envelope]
    code = f"""
        import sys
        from viksa_ai.devtools.cli import main
        code = main({argv!r})
        print([m for m in sys.modules if m.startswith("opentelemetry")], file=sys.stderr)
        sys.exit(code)
        """
    done = fresh_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"
