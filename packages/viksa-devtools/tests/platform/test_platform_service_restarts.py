"""Restarts: a real ``viksa dev --data FILE`` killed (SIGKILL) mid-workflow, then started
again; a platform reopened over its data file with a schedule that fell due meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from viksa_ai.devtools.platform import Platform, PlatformConfig
from viksa_ai.devtools.platform.services._clock import iso_at, seconds_of
from viksa_ai.devtools.platform.services._workflows import KIND as WORKFLOW_EXECUTION

Manifest = dict[str, Any]


async def _until(http: httpx.AsyncClient, url: str, check: Callable[[Any], bool]) -> Any:
    """The answer of GET ``url`` once ``check`` holds (bounded: a background run moves it)."""
    answer: Any = None
    for _ in range(600):
        answer = (await http.get(url)).json()
        if check(answer):
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never got there: {answer}")


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
    serve_data: Callable[..., Any],
    deploy_through: Callable[[httpx.AsyncClient, Manifest], Awaitable[Manifest]],
    workflow_started: Callable[..., Awaitable[str]],
    served_client: Callable[..., Any],
) -> None:
    data = tmp_path / "platform.db"

    async def before(exports: dict[str, str]) -> tuple[str, str]:
        """A workflow waiting for its first step's approval; then a trigger is made."""
        async with served_client(exports) as http:
            agent = await deploy_through(http, manifest())
            base = await workflow_started(http, agent["id"], "guarded", "echo")
            await _until(http, "/chat/approvals", lambda a: a["total"] == 1)
            body = {"agent_id": agent["id"], "endpoint": "echo.main.echo"}
            trigger = await http.post("/chat/trigger", json=body)
            assert trigger.status_code == 201
            return base, str(trigger.json()["id"])

    async def after(exports: dict[str, str]) -> None:
        async with served_client(exports) as http:
            await _after_the_restart(http, base, trigger_id)

    with serve_data(data) as (process, exports):
        base, trigger_id = asyncio.run(before(exports))
        process.kill()
        process.wait(timeout=20)
    with serve_data(data) as (_, exports):
        asyncio.run(after(exports))


async def test_a_schedule_due_during_a_restart_runs_once_after_it(tmp_path: Path) -> None:
    config = PlatformConfig(data_path=tmp_path / "platform.db")
    first = Platform(config)
    project = first.seed().project_id
    now = time.time()
    workflow = {"id": "wfl_empty", "name": "w", "steps": [], "status": "active"}
    schedule = {
        "id": "sch_due",
        "name": "s",
        "workflow_id": workflow["id"],
        "interval_seconds": 60,
        "status": "active",
        "run_count": 0,
        "next_run_at": iso_at(now - 3600),  # due an hour ago, while nothing ran
    }
    first.store.insert("workflow", workflow, scope=project)
    first.store.insert("schedule", schedule, scope=project)
    first.close()
    second = Platform(config)
    try:
        assert await second.tick(now) == 1
        assert await second.tick(now + 1) == 0  # once, not once per missed interval
        stored = second.store.get("schedule", "sch_due")
        assert stored is not None
        assert stored["run_count"] == 1
        assert seconds_of(stored["next_run_at"]) > now
    finally:
        await second.aclose()
    third = Platform(config)
    try:
        assert await third.tick(now + 2) == 0  # nor again after the next restart
        _, total = third.store.query(WORKFLOW_EXECUTION, where={"schedule_id": "sch_due"})
        assert total == 1
    finally:
        await third.aclose()
