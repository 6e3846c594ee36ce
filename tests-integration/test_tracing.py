"""One trace from a script to the agent and back (issue 15).

A script's call goes through ViksaClient to the local platform, whose worker runs an
endpoint that calls a second agent through the platform (A2A): every span the client,
the platform and the runner make shares one trace id, each with the right parent, and
no attribute holds the API key, a token or an input value. The platform is served on
127.0.0.1 in the test's own event loop (the agent's A2A call needs a socket); the
script's client reaches it in process (ASGI) or over that socket.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from viksa_ai.client import ViksaClient
from viksa_ai.devtools.platform import LocalPlatform

CALLER_MAIN = """
import asyncio
import json
import urllib.request
from typing import Any, Dict

from ViksaAI import ViksaAuth, attach_envelope, mcp_endpoint, trace_context


@mcp_endpoint(description="Ask the callee agent through the platform (A2A)")
async def relay(payload: Dict[str, Any]):
    inputs = attach_envelope(
        {"text": payload["text"]},
        {"run_id": "run-1", "caller_agent": "caller", "callee_agent": "callee",
         "endpoint": "callee.main.echo"},
    )
    body = {"agent_id": payload["callee_id"], "agent_type": "cloud",
            "endpoint": "callee.main.echo", "inputs": inputs}
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Bearer " + ViksaAuth.require_param("platform", "api_key"),
        "X-Tenant-Org-Id": payload["org_id"],
        "X-Tenant-Project-Id": payload["project_id"],
        # The same trace over HTTP: the W3C strings are the header values.
        **trace_context(),
    }
    request = urllib.request.Request(
        payload["url"] + "/pulse/executor/execute", json.dumps(body).encode(), headers
    )
    answer = await asyncio.to_thread(lambda: urllib.request.urlopen(request, timeout=60).read())
    return json.loads(answer)
"""

CALLEE_MAIN = """
from typing import Any, Dict

from ViksaAI import context, mcp_endpoint


@mcp_endpoint(description="Echo the text and the A2A envelope")
async def echo(payload: Dict[str, Any]):
    return {"text": payload.get("text"), "envelope": dict(context())}
"""

TEXT = "input-value-that-must-not-be-traced"


def _manifest(alias: str, main: str, endpoint: str, inputs: list[str], **extra: Any) -> Any:
    return {
        "agent_name": alias,
        "agent_alias": alias,
        "agent_description": f"The {alias} agent of the tracing test",
        "agent_type": "cloud",
        "files": [{"name": "main.py", "content": main, "mime_type": "python"}],
        "requirements": [],
        "inputs": [{"name": name, "type": "string"} for name in inputs],
        "outputs": [],
        "agent_endpoints": [
            {
                "name": endpoint,
                "module": "main",
                "description": endpoint,
                "inputs": [{"input_ref": name} for name in inputs],
                "outputs": [],
                "execution_config": {"timeout_seconds": 60},
            }
        ],
        **extra,
    }


@pytest.fixture
async def served() -> AsyncIterator[tuple[LocalPlatform, str]]:
    """The local platform, in process and on a socket of 127.0.0.1, in this loop."""
    local = LocalPlatform.start()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(local.app, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[listener]))
    while not server.started:  # noqa: ASYNC110 - uvicorn says so with a flag only
        await asyncio.sleep(0.01)
    try:
        yield local, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()
        await local.aclose()


async def _deploy(client: ViksaClient, manifest: Any) -> str:
    agent = await client.builder.agents.create(manifest)
    await client.builder.deploy.build(agent["id"])
    await client.builder.deploy.deploy(agent["id"])
    return str(agent["id"])


@pytest.mark.parametrize("over", ["in-process", "socket"])
async def test_one_trace_from_the_script_through_two_agents(
    served: tuple[LocalPlatform, str], over: str, otel_spans: Any
) -> None:
    from opentelemetry import trace

    local, url = served
    credentials = local.credentials
    if over == "in-process":
        client = local.async_client()
    else:
        client = ViksaClient(
            api_key=credentials.api_key,
            org_id=credentials.org_id,
            project_id=credentials.project_id,
            base_url=url,
            timeout=60,
        )
    async with client, client.http_client:
        secret = await client.builder.secrets.create_secret("platform", credentials.api_key)
        callee_id = await _deploy(client, _manifest("callee", CALLEE_MAIN, "echo", ["text"]))
        caller = _manifest(
            "caller",
            CALLER_MAIN,
            "relay",
            ["text", "callee_id", "url", "org_id", "project_id"],
            auth_methods={"platform": {"api_key": {"secret_id": secret["id"]}}},
        )
        caller_id = await _deploy(client, caller)
        otel_spans.clear()
        with trace.get_tracer("script").start_as_current_span("script") as script:
            result = await client.pulse.execute(
                {
                    "agent_id": caller_id,
                    "agent_type": "cloud",
                    "endpoint": "caller.main.relay",
                    "inputs": {
                        "text": TEXT,
                        "callee_id": callee_id,
                        "url": url,
                        "org_id": credentials.org_id,
                        "project_id": credentials.project_id,
                    },
                }
            )
    assert result.status == "completed", result.error
    inner = result.response
    assert isinstance(inner, dict)
    assert inner["status"] == "completed", inner
    spans = otel_spans.get_finished_spans()
    trace_id = script.get_span_context().trace_id
    assert {span.context.trace_id for span in spans} == {trace_id}

    by_id = {span.context.span_id: span for span in spans}

    def parent(span: Any) -> Any:
        return by_id[span.parent.span_id]

    def named(name: str) -> list[Any]:
        return [span for span in spans if span.name == name]

    [client_span] = [s for s in spans if s.kind.name == "CLIENT" and s.name.startswith("POST")]
    assert client_span.name == "POST /pulse/executor/execute"
    assert parent(client_span) is by_id[script.get_span_context().span_id]
    outer, inner_route = sorted(
        (s for s in spans if s.kind.name == "SERVER"), key=lambda s: s.start_time
    )
    assert outer.attributes["http.route"] == "/pulse/executor/execute"
    assert parent(outer) is client_span
    [relay] = named("viksa.worker.call relay")
    [echo] = named("viksa.worker.call echo")
    assert parent(relay).name == "viksa.run"
    assert parent(parent(relay)) is outer
    # The agent's A2A call continues the trace from inside the worker span.
    assert parent(inner_route) is relay
    assert parent(echo).name == "viksa.run"
    assert parent(parent(echo)) is inner_route
    steps = {s.name for s in spans if s.parent and parent(s) in (outer, inner_route)}
    assert steps == {"viksa.validate", "viksa.run"}
    assert {parent(s).name for s in named("viksa.queue")} == {"viksa.run"}
    assert len(spans) == 12  # script, client, 2 x (route, validate, run, queue, worker call)
    # The callee saw the caller's trace context in its A2A envelope.
    carried: Any = inner["response"]
    for key in ("envelope", "trace_context", "traceparent"):
        assert isinstance(carried, dict), carried
        carried = carried[key]
    assert isinstance(carried, str)
    assert carried.split("-")[1:3] == [f"{trace_id:032x}", f"{relay.context.span_id:016x}"]

    forbidden = (credentials.api_key, TEXT, callee_id, caller_id, credentials.project_id)
    for span in spans:
        values = [str(v) for v in (span.attributes or {}).values()]
        values += [str(v) for e in span.events for v in (e.attributes or {}).values()]
        values.append(span.name)
        for value in values:
            assert not any(secret in value for secret in forbidden), (span.name, value)


def test_the_readme_tracing_example_runs() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Tracing\n", 1)[1].split("\n## ", 1)[0]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    # A fresh interpreter: the example sets the global tracer provider.
    done = subprocess.run(
        [sys.executable, "-c", example], capture_output=True, text=True, check=True, timeout=120
    )
    lines = [line.split() for line in done.stdout.splitlines()]
    assert [line[1:] for line in lines] == [
        ["SERVER", "GET", "/auth/me"],
        ["CLIENT", "GET", "/auth/me"],
        ["INTERNAL", "my-script"],
    ]
    assert len({line[0] for line in lines}) == 1


def _tracing_section() -> str:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    return readme.split("\n## Tracing\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_viksa_run_tracing_command_runs_as_written(
    otlp_collector: Callable[..., tuple[str, list[tuple[str, str, bytes]]]],
) -> None:
    blocks = re.findall(r"```bash\n(.*?)```", _tracing_section(), re.DOTALL)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    viksa_commands = [c for c in commands if c.startswith("viksa ")]
    assert viksa_commands == [
        'viksa run examples/text_tools_agent word_stats -i text="to be" '
        "--otlp-endpoint http://localhost:4318/v1/traces"
    ]
    try:  # the command names OTLP's own port: the stand-in must hold it
        _, received = otlp_collector(4318)
    except OSError:
        pytest.skip("127.0.0.1:4318 (OTLP/HTTP's port) is in use on this machine")
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    done = subprocess.run(
        ["bash", "-c", viksa_commands[0]],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["words"] == 2
    assert any(b"viksa.worker.call word_stats" in body for _, _, body in received)
