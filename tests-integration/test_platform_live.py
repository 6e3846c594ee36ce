"""The SDK against a real ``viksa dev`` process on 127.0.0.1: README snippets, a full
flow with the async and the sync client, volume, concurrency, faults and restarts.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _live_server import REPO, Server, start_server

from viksa_ai import ViksaClient, ViksaNotFoundError, ViksaSyncClient
from viksa_ai.client import (
    ClientConfig,
    RequestOptions,
    RetryConfig,
    ViksaAuthenticationError,
    ViksaError,
    ViksaTransportError,
)
from viksa_ai.models.executor import AgentType, EndpointExecutionRequest

EXAMPLES = REPO / "examples"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """One server for the module, with the examples deployed, in memory."""
    started = start_server("--memory", "--with-examples", str(EXAMPLES))
    yield started
    started.stop()


def _client(server: Server, **kwargs: Any) -> ViksaClient:
    return ViksaClient(
        api_key=server.env["VIKSA_API_KEY"],
        org_id=server.env["VIKSA_ORG_ID"],
        project_id=server.env["VIKSA_PROJECT_ID"],
        base_url=server.base_url,
        **kwargs,
    )


async def _agent_id(client: ViksaClient, alias: str) -> str:
    page = await client.builder.agents.list(search=alias, limit=100)
    return str(next(a["id"] for a in page["agents"] if a["agent_alias"] == alias))


def test_the_banner_names_the_examples_and_working_credentials(server: Server) -> None:
    assert "text_tools_agent: deployed" in server.banner
    assert server.base_url.startswith("http://127.0.0.1:")


# -- the README's snippets, as written except the base URL and credentials --------------


async def test_readme_call_the_platform_api(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    login = await ViksaClient.from_login(server.email, server.password, base_url=server.base_url)
    token, org, project = login._settings.credentials.access_token, login.org_id, login.project_id
    await login.aclose()

    async def main() -> None:
        async with ViksaClient(
            access_token=token, org_id=org, project_id=project, base_url=server.base_url
        ) as client:
            me = await client.auth.me()
            agents = await client.builder.agents.list(limit=10)
            print(me.email, agents.get("total", len(agents)))

    await main()
    assert capsys.readouterr().out.split() == [server.email, "2"]


async def test_readme_from_env(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    client = ViksaClient.from_env()
    async with client:
        assert (await client.auth.me()).email == server.email


def test_readme_from_env_sync(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    with ViksaSyncClient.from_env() as client:
        assert client.auth.me().email == server.email
        assert client.builder.agents.list(limit=1)["total"] == 2


def test_examples_quickstart_runs_against_the_platform(server: Server) -> None:
    """The README's quick start: `examples/quickstart.py` with the printed exports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIKSA_")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")],
        env={**env, **server.env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{server.email} 2"
    assert "  agent text_tools_agent: deployed" in lines
    assert any(
        line.startswith("text_tools_agent.main.slugify -> completed: ")
        and "'hello-from-the-viksa-sdk'" in line
        for line in lines
    )
    assert any(line.startswith("typed error: 404 ") for line in lines)


async def test_readme_pulse_pagination_errors_and_sse(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    async with _client(server) as client:
        agent_id = await _agent_id(client, "text_tools_agent")
        result = await client.pulse.execute(
            EndpointExecutionRequest(
                agent_id=agent_id,
                agent_type=AgentType.CLOUD,
                endpoint="text_tools_agent.main.word_stats",
                inputs={"text": "flights to LAX"},
            )
        )
        assert isinstance(result.response, dict)
        assert (result.status, result.response["words"]) == ("completed", 3)
        async for agent in client.builder.agents.iter_all(search="flight"):
            print(agent["agent_name"])
        try:
            await client.builder.agents.get("missing-id")
        except ViksaNotFoundError as e:
            print(e.status_code, e.detail_message, e.request_id)
            for d in e.details:
                print(d.field, d.message)
        events = [
            event async for event in client.chat.stream_indent_finder("Find my last deployment")
        ]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Aviation Agent"
    assert out[1].startswith("404 Agent 'missing-id' not found req_")
    assert events[-1]["type"] == "result"


async def test_readme_webhooks(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    async with _client(server) as client:
        agent = await client.builder.agents.create(_event_agent("events"))
        await client.builder.deploy.build(agent["id"])
        await client.builder.deploy.deploy(agent["id"])
        trigger = await client.chat.triggers.create(
            {"name": "orders", "agent_id": agent["id"], "endpoint": "events.main.record"}
        )
    wh = ViksaClient.webhook(
        trigger["id"], webhook_token=trigger["webhook_token"], base_url=server.base_url
    )
    await wh.invoke({"event": "order.created"})
    async for evt in wh.stream({"event": "order.created"}):
        print(evt)
    await wh.aclose()
    printed = capsys.readouterr().out
    assert "'response': {'event': 'order.created'}" in printed


def _event_agent(alias: str, *, approval: bool = False) -> dict[str, Any]:
    main = (
        "from typing import Any, Dict\n\nfrom viksa_ai.runtime import mcp_endpoint\n\n\n"
        '@mcp_endpoint(description="Record an event")\n'
        "async def record(payload: Dict[str, Any]):\n"
        '    return {"event": payload.get("event")}\n'
    )
    return {
        "agent_name": "Events",
        "agent_alias": alias,
        "agent_description": "Records webhook events",
        "files": [{"name": "main.py", "content": main, "mime_type": "python"}],
        "inputs": [{"name": "event", "type": "string"}],
        "outputs": [],
        "agent_endpoints": [
            {
                "name": "record",
                "module": "main",
                "description": "record",
                "inputs": [{"input_ref": "event", "required": False}],
                "execution_config": {"requires_approval": approval},
            }
        ],
    }


# -- a full flow, async then sync --------------------------------------------------------


def _text_tools(alias: str) -> dict[str, Any]:
    manifest = json.loads((EXAMPLES / "text_tools_agent" / "agent.json").read_text())
    main = (EXAMPLES / "text_tools_agent" / "main.py").read_text()
    manifest["files"] = [{"name": "main.py", "content": main, "mime_type": "python"}]
    return {**manifest, "agent_alias": alias}


async def test_full_flow_async(server: Server) -> None:
    client = await ViksaClient.from_login(server.email, server.password, base_url=server.base_url)
    async with client:
        secret = await client.builder.secrets.create_secret("signing", "k-async")
        agent = await client.builder.agents.create(
            {
                **_text_tools("tools_async"),
                "auth_methods": {"signing_key": {"secret": {"secret_id": secret["id"]}}},
            }
        )
        await client.builder.deploy.build(agent["id"])
        await client.builder.deploy.deploy(agent["id"])
        signed = await client.pulse.execute(
            EndpointExecutionRequest(
                agent_id=agent["id"],
                agent_type=AgentType.CLOUD,
                endpoint="tools_async.main.sign_message",
                inputs={"message": "hi"},
            )
        )
        assert signed.status == "completed", signed.error
        assert isinstance(signed.response, dict)
        assert len(str(signed.response["signature"])) == 64
        usage = await client.builder.secrets.secret_usage(secret["id"])
        assert usage["agents"][0]["agent_alias"] == "tools_async"
        guarded = await client.builder.agents.create(_event_agent("guarded_async", approval=True))
        await client.builder.deploy.build(guarded["id"])
        await client.builder.deploy.deploy(guarded["id"])
        # A guarded endpoint answers at once; the run happens when someone approves it.
        waiting = await client.pulse.execute(
            EndpointExecutionRequest(
                agent_id=guarded["id"],
                agent_type=AgentType.CLOUD,
                endpoint="guarded_async.main.record",
                inputs={"event": "e"},
            )
        )
        assert (waiting.status, waiting.response) == ("awaiting_approval", None)
        pending = (await client.chat.approvals.list(status="pending"))["approvals"]
        assert [approval["execution_id"] for approval in pending] == [waiting.execution_id]
        decided = await client.chat.approvals.decide(pending[0]["id"], {"decision": "approve"})
        assert decided["execution"]["response"] == {"event": "e"}
        schedule = await client.scheduler.create(
            {
                "agent_id": agent["id"],
                "endpoint": "tools_async.main.slugify",
                "inputs": {"text": "A B"},
            }
        )
        await client.scheduler.pause(schedule["id"])
        await client.scheduler.resume(schedule["id"])
        ran = await client.scheduler.run_now(schedule["id"])
        assert ran["run"]["source"] == "schedule"
        await client.auth.refresh()
        assert (await client.auth.me()).email == server.email


def test_full_flow_sync(server: Server) -> None:
    with ViksaSyncClient.from_login(
        server.email, server.password, base_url=server.base_url
    ) as client:
        agent = client.builder.agents.create(_event_agent("events_sync"))
        client.builder.deploy.build(agent["id"])
        client.builder.deploy.deploy(agent["id"])
        result = client.pulse.execute(
            EndpointExecutionRequest(
                agent_id=agent["id"],
                agent_type=AgentType.CLOUD,
                endpoint="events_sync.main.record",
                inputs={"event": "sync"},
            )
        )
        assert result.response == {"event": "sync"}
        trigger = client.chat.triggers.create(
            {"agent_id": agent["id"], "endpoint": "events_sync.main.record"}
        )
        events = list(client.chat.triggers.test(trigger["id"], {"event": "t"}))
        assert events[-1]["response"] == {"event": "t"}
        runs = client.chat.triggers.list_executions(trigger["id"])
        assert runs["total"] == 1
        client.auth.logout()
        with pytest.raises(ViksaAuthenticationError):
            client.auth.me()


# -- volume and concurrency ------------------------------------------------------------------


async def test_a_thousand_agents_page_through_iter_all(server: Server) -> None:
    async with await ViksaClient.from_login(
        server.email, server.password, base_url=server.base_url
    ) as user:
        org = user.org_id
        assert org is not None
        project = await user.auth.projects.create({"name": "volume", "org_id": org})
        await user.auth.switch_project(project["id"])
        gate = asyncio.Semaphore(16)
        body = _event_agent("x")

        async def create(index: int) -> None:
            async with gate:
                await user.builder.agents.create({**body, "agent_alias": f"bulk_{index:04d}"})

        await asyncio.gather(*(create(i) for i in range(1000)))
        aliases = [a["agent_alias"] async for a in user.builder.agents.iter_all(limit=100)]
    assert len(aliases) == 1000
    assert sorted(aliases) == [f"bulk_{i:04d}" for i in range(1000)]


async def test_two_hundred_concurrent_executes(server: Server) -> None:
    async with _client(server) as client:
        agent_id = await _agent_id(client, "text_tools_agent")
        requests = [
            EndpointExecutionRequest(
                agent_id=agent_id,
                agent_type=AgentType.CLOUD,
                endpoint="text_tools_agent.main.slugify",
                inputs={"text": f"Item {i}"},
            )
            for i in range(200)
        ]
        results = await asyncio.gather(*(client.pulse.execute(r) for r in requests))
    slugs = [r.response.get("slug") if isinstance(r.response, dict) else None for r in results]
    assert slugs == [f"item-{i}" for i in range(200)]
    assert len({r.execution_id for r in results}) == 200


# -- faults ------------------------------------------------------------------------------------


_FAST_RETRY = RetryConfig(max_retries=4, initial_delay=0.01, max_delay=0.2)


async def _arm(client: ViksaClient, spec: str) -> None:
    await client.request("POST", "/_dev", "/faults", json={"spec": spec})


async def test_statuses_and_retry_after_are_survived(server: Server) -> None:
    async with _client(server, retry=_FAST_RETRY) as client:
        for spec in (
            "status=503;count=2",
            "status=429;retry-after=0.2",
            "status=502",
            "latency=0.2",
        ):
            await _arm(client, f"{spec};path=/builder/agent/list")
            page = await client.builder.agents.list(limit=1)
            assert page["total"] >= 2
        header = RequestOptions(extra_headers={"X-Viksa-Fault": "status=504;count=3;id=h1"})
        assert (await client.auth.me(options=header)).email == server.email


async def test_a_retried_create_makes_one_agent(server: Server) -> None:
    async with _client(server, retry=_FAST_RETRY) as client:
        await _arm(client, "drop=0;count=1;method=POST;path=/builder/agent/create")
        created = await client.builder.agents.create(_event_agent("dropped_once"))
        page = await client.builder.agents.list(search="dropped_once")
    assert [a["id"] for a in page["agents"]] == [created["id"]]


async def test_an_expired_token_is_refreshed(server: Server) -> None:
    async with await ViksaClient.from_login(
        server.email, server.password, base_url=server.base_url, retry=_FAST_RETRY
    ) as client:
        await _arm(client, "expire-token;count=1;path=/auth/me")
        assert (await client.auth.me()).email == server.email


async def test_a_stream_cut_midway_raises_a_transport_error_and_nothing_hangs(
    server: Server,
) -> None:
    async with _client(server, config=ClientConfig(), retry=_FAST_RETRY) as client:
        await _arm(client, "drop=2;path=/chat/indent_finder/stream")
        with pytest.raises(ViksaTransportError):
            async for _ in client.chat.stream_indent_finder("hello"):
                pass
        events = [e async for e in client.chat.stream_indent_finder("hello")]
    assert events[-1]["type"] == "result"


# -- restarts -----------------------------------------------------------------------------------


async def test_state_is_kept_across_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "platform.db"
    first = start_server("--data", str(data))
    try:
        async with _client(first) as client:
            secret = await client.builder.secrets.create_secret("kept", "value-1")
            agent = await client.builder.agents.create(_event_agent("kept_agent"))
    finally:
        first.stop()
    second = start_server("--data", str(data))
    try:
        assert second.env["VIKSA_PROJECT_ID"] == first.env["VIKSA_PROJECT_ID"]
        for server in (first, second):  # the old key still works, and the new one
            env = {**second.env, "VIKSA_API_KEY": server.env["VIKSA_API_KEY"]}
            async with _client(Server(second.process, env, "", "", "")) as client:
                assert (await client.builder.agents.get(agent["id"]))["agent_alias"] == "kept_agent"
                got = await client.builder.secrets.get_secret(secret["id"])
                assert got["value"] == "value-1"
        async with await ViksaClient.from_login(
            second.email, second.password, base_url=second.base_url
        ) as user:
            assert (await user.auth.me()).email == second.email
    finally:
        second.stop()
    assert os.stat(data).st_mode & 0o777 == 0o600


async def test_a_killed_server_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    # kill -9 runs no shutdown code: whatever was answered must already be in the file,
    # the execution and the Idempotency-Key's kept answer included.
    data = tmp_path / "platform.db"
    first = start_server("--data", str(data))
    once = RequestOptions(idempotency_key="kill-9-then-retry")
    try:
        async with _client(first) as client:
            secret = await client.builder.secrets.create_secret("kept", "value-1")
            agent = await client.builder.agents.create(_event_agent("kept_agent"))
            await client.builder.deploy.build(agent["id"])
            await client.builder.deploy.deploy(agent["id"])
            request = EndpointExecutionRequest(
                agent_id=agent["id"],
                agent_type=AgentType.CLOUD,
                endpoint="kept_agent.main.record",
                inputs={"event": "before the kill"},
            )
            ran = await client.pulse.execute(request, options=once)
        first.process.kill()
        first.process.wait(timeout=20)
    finally:
        first.stop()
    second = start_server("--data", str(data))
    try:
        env = {**second.env, "VIKSA_API_KEY": first.env["VIKSA_API_KEY"]}
        async with _client(Server(second.process, env, "", "", "")) as client:
            assert (await client.builder.agents.get(agent["id"]))["agent_alias"] == "kept_agent"
            assert (await client.builder.secrets.get_secret(secret["id"]))["value"] == "value-1"
            kept = await client.request("GET", "/pulse", f"/executor/execution/{ran.execution_id}")
            assert isinstance(kept, dict)
            assert (kept["status"], kept["response"]) == ("completed", {"event": "before the kill"})
            again = await client.pulse.execute(request, options=once)
            assert again.execution_id == ran.execution_id  # the kept answer, replayed
    finally:
        second.stop()


# -- stopping ---------------------------------------------------------------------------------

_HOLDER = """
import asyncio
import os
import subprocess
from typing import Any, Dict

from viksa_ai.runtime import mcp_endpoint


@mcp_endpoint(description="The worker's process id")
async def pid(payload: Dict[str, Any]):
    return {"pid": os.getpid()}


@mcp_endpoint(description="Spawn a process, record both ids in a file, then hang")
async def hang(payload: Dict[str, Any]):
    spawned = subprocess.Popen(["sleep", "300"])
    with open(payload["path"], "w") as file:
        file.write(f"{os.getpid()} {spawned.pid}")
    await asyncio.sleep(300)
"""


def _holder(alias: str) -> dict[str, Any]:
    return {
        "agent_name": "Holder",
        "agent_alias": alias,
        "agent_description": "Holds its worker busy",
        "files": [{"name": "main.py", "content": _HOLDER, "mime_type": "python"}],
        "inputs": [{"name": "path", "type": "string"}],
        "outputs": [],
        "agent_endpoints": [
            {"name": "pid", "module": "main", "description": "pid", "inputs": []},
            {
                "name": "hang",
                "module": "main",
                "description": "hang",
                "inputs": [{"input_ref": "path"}],
                "execution_config": {"timeout_seconds": 600},
            },
        ],
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie nobody reaped yet is dead too
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True
    return state != "Z"


@pytest.mark.skipif(os.name != "posix", reason="signals and process groups are POSIX")
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
async def test_a_stopped_server_leaves_no_worker_process(
    stop: signal.Signals, tmp_path: Path
) -> None:
    # Unsandboxed: the test follows the pids the agent reports and the file it writes
    # (in the sandbox both are the namespace's own; the runner's tests cover that case).
    server = start_server("--memory", "--no-sandbox")
    marker = tmp_path / "busy.pids"
    try:
        async with _client(server) as client:
            agent = await client.builder.agents.create(_holder("holder"))
            await client.builder.deploy.build(agent["id"])
            await client.builder.deploy.deploy(agent["id"])

            def run(endpoint: str, **inputs: Any) -> Any:
                return client.pulse.execute(
                    EndpointExecutionRequest(
                        agent_id=agent["id"],
                        agent_type=AgentType.CLOUD,
                        endpoint=f"holder.main.{endpoint}",
                        inputs=inputs,
                    )
                )

            hanging = asyncio.ensure_future(run("hang", path=str(marker)))
            for _ in range(400):
                if marker.exists() and marker.read_text():
                    break
                await asyncio.sleep(0.05)
            busy, spawned = map(int, marker.read_text().split())
            idle = (await run("pid")).response["pid"]
            assert {busy, spawned, idle} == {p for p in (busy, spawned, idle) if _alive(p)}
            server.process.send_signal(stop)
            # It stops, even with a request still running.
            await asyncio.to_thread(server.process.wait, 60)
            # The call in flight was cut: a transport error or the 500 uvicorn answers for
            # a request it cancelled on the way out.
            hanging.cancel()
            with pytest.raises((asyncio.CancelledError, ViksaError)):
                await hanging
    finally:
        server.stop()
    for pid in (busy, spawned, idle):
        for _ in range(100):
            if not _alive(pid):
                break
            await asyncio.sleep(0.05)
        assert not _alive(pid), f"process {pid} outlived viksa dev"


# -- kept targets under concurrency (review 3) ----------------------------------------------


async def test_no_execute_after_a_change_is_answered_from_a_kept_target(server: Server) -> None:
    # Executes race with enable/disable of the agent and of its endpoint over real
    # sockets; any execute sent after a change was acknowledged must see that change.
    headers = {
        "Authorization": f"Bearer {server.env['VIKSA_API_KEY']}",
        "X-Tenant-Project-Id": server.env["VIKSA_PROJECT_ID"],
    }
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=60) as http:
        created = await http.post("/builder/agent/create", json=_text_tools("flip_tools"))
        assert created.status_code == 201, created.text
        agent_id = created.json()["id"]
        for route in ("/builder/builder/", "/builder/deploy/"):
            assert (await http.post(route, json={"agent_id": agent_id})).status_code == 200
        body = {
            "agent_id": agent_id,
            "agent_type": "cloud",
            "endpoint": "flip_tools.main.slugify",
            "inputs": {"text": "A b"},
        }

        async def run() -> tuple[int, Any]:
            answer = await http.post("/pulse/executor/execute", json=body)
            detail = answer.json().get("detail")
            return answer.status_code, detail.get("code") if isinstance(detail, dict) else None

        switches = [
            (f"/builder/agent/{agent_id}/status", "agent_disabled"),
            (f"/builder/agent/{agent_id}/endpoint/slugify/status", "endpoint_disabled"),
        ]
        for round_ in range(6):
            path, code = switches[round_ % 2]
            for status, expected in (("disabled", (409, code)), ("enabled", (200, None))):
                racing = [run() for _ in range(10)]
                switched, *_ = await asyncio.gather(
                    http.patch(path, json={"status": status}), *racing
                )
                assert switched.status_code == 200, switched.text
                after = await asyncio.gather(*(run() for _ in range(10)))
                assert set(after) == {expected}, (round_, status, after)


async def _raw_chunked_post(base_url: str, head: dict[str, str], chunks: list[bytes]) -> bytes:
    """POST ``chunks`` with Transfer-Encoding: chunked over a raw socket; the status line."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        lines = [
            "POST /pulse/executor/execute HTTP/1.1",
            f"Host: {host}:{port}",
            "Transfer-Encoding: chunked",
            *(f"{k}: {v}" for k, v in head.items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        for chunk in chunks:
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), timeout=60)
    finally:
        writer.close()


async def test_chunked_executes_over_a_real_socket_are_served_or_cut_at_the_cap() -> None:
    # The direct handler of execute reads the body itself: over uvicorn a chunked
    # body is served, and one whose last chunk crosses the cap is 413, never a hang.
    started = start_server("--memory", "--with-examples", str(EXAMPLES), "--max-body-mb", "1")
    try:
        async with _client(started) as client:
            agent_id = await _agent_id(client, "text_tools_agent")
        head = {
            "Authorization": f"Bearer {started.env['VIKSA_API_KEY']}",
            "Content-Type": "application/json; charset=latin-1",
        }
        body = json.dumps(
            {
                "agent_id": agent_id,
                "agent_type": "cloud",
                "endpoint": "text_tools_agent.main.slugify",
                "inputs": {"text": "A b"},
            }
        )
        cut = len(body) // 2
        served = await _raw_chunked_post(
            started.base_url, head, [body[:cut].encode(), body[cut:].encode()]
        )
        assert served.startswith(b"HTTP/1.1 200"), served
        half = 600 * 1024
        over = await _raw_chunked_post(
            started.base_url, head, [b"{" + b" " * half, b" " * half + b"}"]
        )
        assert over.startswith(b"HTTP/1.1 413"), over
    finally:
        started.stop()
