"""A real ``viksa dev --data FILE`` killed (SIGKILL) mid-workflow, then started again."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx

Manifest = dict[str, Any]
_BANNER_LINES = 40


@contextmanager
def serving(
    data: Path, stop_server: Callable[[subprocess.Popen[str]], None]
) -> Iterator[tuple[subprocess.Popen[str], str, dict[str, str]]]:
    """A ``viksa dev --data data`` on 127.0.0.1: its process, base URL and auth header."""
    command = [sys.executable, "-m", "viksa_ai.devtools.cli", "dev", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=data.parent,
    )
    assert process.stdout is not None
    try:
        lines: dict[str, str] = {}
        for _ in range(_BANNER_LINES):
            line = process.stdout.readline()
            if line.startswith("export "):
                name, _, value = line[len("export ") :].strip().partition("=")
                lines[name] = value
            if "VIKSA_PROJECT_ID" in lines or not line:
                break
        assert "VIKSA_BASE_URL" in lines, "viksa dev did not print its banner"
        yield (
            process,
            lines["VIKSA_BASE_URL"],
            {"Authorization": f"Bearer {lines['VIKSA_API_KEY']}"},
        )
    finally:
        stop_server(process)


@asynccontextmanager
async def client(base_url: str, headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the served platform, once it answers."""
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as http:
        for _ in range(200):  # the banner comes just before uvicorn serves
            try:
                await http.get("/docs")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        yield http


async def _until(http: httpx.AsyncClient, url: str, check: Callable[[Any], bool]) -> Any:
    for _ in range(600):
        answer = (await http.get(url)).json()
        if check(answer):
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never got there: {answer}")


async def _before_the_kill(http: httpx.AsyncClient, manifest: Manifest) -> tuple[str, str]:
    """A workflow waiting for its first step's approval; a trigger created last.

    The URL of the workflow execution and the trigger's id.
    """
    agent = (await http.post("/builder/agent/create", json=manifest)).json()
    for route in ("/builder/builder/", "/builder/deploy/"):
        assert (await http.post(route, json={"agent_id": agent["id"]})).status_code == 200
    steps = [
        {"agent_id": agent["id"], "endpoint": f"echo.main.{name}", "inputs": {"text": name}}
        for name in ("guarded", "echo")
    ]
    workflow = (await http.post("/workflow/create", json={"steps": steps})).json()
    started = await http.post("/workflow/start", json={"workflow_id": workflow["id"]})
    base = f"/workflow/execution/{started.json()['id']}"
    await _until(http, "/chat/approvals", lambda a: a["total"] == 1)
    body = {"agent_id": agent["id"], "endpoint": "echo.main.echo"}
    trigger = await http.post("/chat/trigger", json=body)
    assert trigger.status_code == 201
    return base, str(trigger.json()["id"])


async def _after_the_restart(http: httpx.AsyncClient, base: str, trigger_id: str) -> None:
    # The write acknowledged just before the kill is there.
    assert (await http.get(f"/chat/trigger/{trigger_id}")).status_code == 200
    cut = (await http.get(base)).json()
    assert cut["status"] == "failed"
    # Nothing stays running, or waits for an approval, for a run that died with the process.
    assert [t["status"] for t in cut["tasks"]] == ["failed", "pending"]
    [old] = (await http.get("/chat/approvals")).json()["approvals"]
    assert old["status"] == "cancelled"
    step = (await http.get(f"/chat/executions/{old['execution_id']}/events")).json()
    assert step["events"][-1]["status"] == "cancelled"
    assert (await http.post(f"{base}/retry")).status_code == 200
    pending = await _until(http, "/chat/approvals?status=pending", lambda a: a["total"] == 1)
    approval = pending["approvals"][0]["id"]
    decided = await http.post(f"/chat/approvals/{approval}/decision", json={"decision": "approve"})
    assert decided.status_code == 200
    done = await _until(http, base, lambda e: e["status"] != "running")
    assert [t["status"] for t in done["tasks"]] == ["completed", "completed"]


def test_a_workflow_cut_by_a_kill_ends_failed_and_retries(
    tmp_path: Path,
    manifest: Callable[..., Manifest],
    stop_server: Callable[[subprocess.Popen[str]], None],
) -> None:
    data = tmp_path / "platform.db"

    async def before(base_url: str, headers: dict[str, str]) -> tuple[str, str]:
        async with client(base_url, headers) as http:
            return await _before_the_kill(http, manifest())

    async def after(base_url: str, headers: dict[str, str]) -> None:
        async with client(base_url, headers) as http:
            await _after_the_restart(http, base, trigger_id)

    with serving(data, stop_server) as (process, base_url, headers):
        base, trigger_id = asyncio.run(before(base_url, headers))
        process.kill()
        process.wait(timeout=20)
    with serving(data, stop_server) as (_, base_url, headers):
        asyncio.run(after(base_url, headers))
