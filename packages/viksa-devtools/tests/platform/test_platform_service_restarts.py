"""Restarts: a real ``viksa dev --data FILE`` killed (SIGKILL) while a workflow waits for
an approval, then started again; a platform reopened over its data file with a schedule
that fell due meanwhile, or with a workflow whose step waits for an approval.

A workflow step waiting for an approval when the platform stops keeps waiting: the
approval survives, approving it runs the step once and the workflow goes on (rejecting
or stopping it ends the step, as before the restart). A step that was running fails.

A step waits ``approval_wait`` seconds from the approval's request, in the process that
started it or in one restarted meanwhile (each tick of the platform checks the resumed
waits). When the wait runs out the step's execution ends ``timeout``, its approval
``cancelled`` (nothing would run on a late decision: it answers 409) and the workflow
fails; ``retry`` asks again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform, Platform, PlatformConfig
from viksa_ai.devtools.platform.services._clock import iso_at, seconds_of
from viksa_ai.devtools.platform.services._errors import DomainError
from viksa_ai.devtools.platform.services._workflows import KIND as WORKFLOW_EXECUTION
from viksa_ai.devtools.platform.store._store import Store

Manifest = dict[str, Any]
AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
Restarted = Callable[[], AbstractAsyncContextManager[tuple[httpx.AsyncClient, str, str]]]
Deploy = Callable[[httpx.AsyncClient, Manifest], Awaitable[Manifest]]
Resumed = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, LocalPlatform, str]]]


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
    # The run still waits for its step's approval, which survived the kill.
    waiting = (await http.get(base)).json()
    assert waiting["status"] == "running"
    assert [t["status"] for t in waiting["tasks"]] == ["running", "pending"]
    [approval] = (await http.get("/chat/approvals")).json()["approvals"]
    assert approval["status"] == "pending"
    decision = {"decision": "approve"}
    decided = await http.post(f"/chat/approvals/{approval['id']}/decision", json=decision)
    assert decided.status_code == 200, decided.text
    done = await _until(http, base, lambda e: e["status"] != "running")
    assert [t["status"] for t in done["tasks"]] == ["completed", "completed"]
    # The step ran once: one approval asked, one execution of it.
    assert (await http.get("/chat/approvals")).json()["total"] == 1
    step = (await http.get(f"/chat/executions/{approval['execution_id']}/events")).json()
    assert step["events"][-1]["status"] == "completed"


def test_a_workflow_waiting_for_an_approval_goes_on_after_a_kill(
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


# -- a workflow step waiting for an approval, the platform closed and reopened -------
# (its runner is cancelled, as a kill ends it)


@pytest.fixture
def restarted(
    tmp_path: Path,
    manifest: Callable[..., Manifest],
    deploy_through: Callable[[httpx.AsyncClient, Manifest], Awaitable[Manifest]],
    workflow_started: Callable[..., Awaitable[str]],
    http_to: AppClient,
) -> Restarted:
    """A workflow (guarded, echo) waiting for its first step's approval, then a restart:
    a client of the reopened platform, the execution's URL and the agent id."""

    @asynccontextmanager
    async def make() -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
        config = PlatformConfig(data_path=tmp_path / "platform.db")
        first = LocalPlatform.start(config)
        async with http_to(first) as http:
            agent = await deploy_through(http, manifest())
            base = await workflow_started(http, agent["id"], "guarded", "echo")
            await _until(http, "/chat/approvals", lambda a: a["total"] == 1)
        await first.aclose()
        again = LocalPlatform.start(config)
        try:
            async with http_to(again) as http:
                yield http, base, agent["id"]
        finally:
            await again.aclose()

    return make


async def _guarded_runs(http: httpx.AsyncClient, agent_id: str) -> list[str]:
    listed = await http.get("/pulse/executor/executions", params={"agent_id": agent_id})
    return [e["status"] for e in listed.json()["executions"] if e["endpoint"].endswith("guarded")]


async def test_an_approval_after_a_restart_runs_the_waiting_step_once_and_goes_on(
    restarted: Restarted,
) -> None:
    async with restarted() as (http, base, agent_id):
        waiting = (await http.get(base)).json()
        assert waiting["status"] == "running"
        assert [t["status"] for t in waiting["tasks"]] == ["running", "pending"]
        [approval] = (await http.get("/chat/approvals", params={"status": "pending"})).json()[
            "approvals"
        ]
        decision = {"decision": "approve"}
        decided = await http.post(f"/chat/approvals/{approval['id']}/decision", json=decision)
        assert decided.status_code == 200, decided.text
        assert decided.json()["execution"]["status"] == "completed"
        done = await _until(http, base, lambda e: e["status"] != "running")
        assert done["status"] == "completed", done
        assert [t["status"] for t in done["tasks"]] == ["completed", "completed"]
        assert done["tasks"][0]["response"] == decided.json()["execution"]["response"]
        # Once: no second execution of the step, no second approval asked.
        assert await _guarded_runs(http, agent_id) == ["completed"]
        assert (await http.get("/chat/approvals")).json()["total"] == 1
        again = await http.post(f"/chat/approvals/{approval['id']}/decision", json=decision)
        assert again.json()["detail"]["code"] == "already_decided"


async def test_a_rejection_after_a_restart_fails_the_waiting_workflow(
    restarted: Restarted,
) -> None:
    async with restarted() as (http, base, agent_id):
        [approval] = (await http.get("/chat/approvals")).json()["approvals"]
        decision = {"decision": "reject", "comment": "not now"}
        decided = await http.post(f"/chat/approvals/{approval['id']}/decision", json=decision)
        assert decided.status_code == 200, decided.text
        failed = (await http.get(base)).json()
        assert failed["status"] == "failed"
        assert [t["status"] for t in failed["tasks"]] == ["failed", "pending"]
        assert "not now" in failed["error"]
        assert await _guarded_runs(http, agent_id) == ["rejected"]
        # As any failed run: retried from the step, which asks again.
        assert (await http.post(f"{base}/retry")).status_code == 200
        await _until(http, "/chat/approvals?status=pending", lambda a: a["total"] == 1)


async def test_a_workflow_stopped_after_a_restart_ends_its_waiting_step(
    restarted: Restarted,
) -> None:
    async with restarted() as (http, base, agent_id):
        assert (await http.post(f"{base}/stop")).status_code == 200
        [approval] = (await http.get("/chat/approvals")).json()["approvals"]
        assert approval["status"] == "cancelled"
        stopped = (await http.get(base)).json()
        assert stopped["status"] == "stopped"
        # Its step is not left running: no runner of this process waited for it.
        assert [t["status"] for t in stopped["tasks"]] == ["failed", "pending"]
        assert stopped["tasks"][0]["error"] == "The workflow execution was stopped."
        assert await _guarded_runs(http, agent_id) == ["cancelled"]


def test_a_workflow_whose_step_ran_when_the_platform_stopped_still_fails(tmp_path: Path) -> None:
    """Guard: only a step waiting for a decision is kept; one that ran is failed, as before
    (its run died with the process; retry runs it again)."""
    config = PlatformConfig(data_path=tmp_path / "platform.db")
    first = Platform(config)
    project = first.seed().project_id
    first.store.insert("execution", {"id": "exe_ran", "status": "running"}, scope=project)
    tasks = [
        {"step_id": "a", "status": "running", "execution_id": "exe_ran"},
        {"step_id": "b", "status": "pending", "execution_id": None},
    ]
    flow = {"id": "wfx_ran", "status": "running", "error": None, "tasks": tasks}
    first.store.insert(WORKFLOW_EXECUTION, flow, scope=project)
    first.close()
    second = Platform(config)
    try:
        after = second.store.get(WORKFLOW_EXECUTION, "wfx_ran")
    finally:
        second.close()
    assert after is not None
    assert (after["status"], [t["status"] for t in after["tasks"]]) == (
        "failed",
        ["failed", "pending"],
    )
    assert "retry" in after["error"]


async def test_a_decision_on_an_approval_read_before_another_decision_is_refused(
    tmp_path: Path,
    manifest: Callable[..., Manifest],
    deploy_through: Callable[[httpx.AsyncClient, Manifest], Awaitable[Manifest]],
    workflow_started: Callable[..., Awaitable[str]],
    http_to: AppClient,
) -> None:
    # Two processes on one data file (or two requests) may both read the approval
    # pending: the second decision must not overwrite the first, nor run the step again.
    local = LocalPlatform.start(PlatformConfig(data_path=tmp_path / "platform.db"))
    try:
        async with http_to(local) as http:
            agent = await deploy_through(http, manifest())
            base = await workflow_started(http, agent["id"], "guarded", "echo")
            listed = await _until(http, "/chat/approvals", lambda a: a["total"] == 1)
            engine, store = local.platform.engine, local.platform.store
            read_here = store.get("approval", listed["approvals"][0]["id"])
            assert read_here is not None
            read_there = dict(read_here)
            await engine.decide(read_here, approve=True, comment=None, by=None)
            with pytest.raises(DomainError) as caught:
                await engine.decide(read_there, approve=False, comment="late", by=None)
            assert isinstance(caught.value.detail, dict)
            assert caught.value.detail["code"] == "already_decided"
            stored = store.get("approval", read_here["id"])
            assert stored is not None
            assert stored["status"] == "approved"
            done = await _until(http, base, lambda e: e["status"] != "running")
            assert done["status"] == "completed"
            assert await _guarded_runs(http, agent["id"]) == ["completed"]
    finally:
        await local.aclose()


# -- approval waits that run out, with and without a restart -------------------------


async def _assert_expired(http: httpx.AsyncClient, base: str) -> None:
    """The workflow failed on its unanswered step; a late decision is refused."""
    failed = await _until(http, base, lambda e: e["status"] != "running")
    assert failed["status"] == "failed", failed
    assert [t["status"] for t in failed["tasks"]] == ["failed", "pending"]
    assert "No decision" in failed["tasks"][0]["error"]
    [approval] = (await http.get("/chat/approvals")).json()["approvals"]
    assert approval["status"] == "cancelled"
    step = (await http.get(f"/pulse/executor/execution/{approval['execution_id']}")).json()
    assert (step["status"], step["error_kind"]) == ("timeout", "approval_timeout")
    late = await http.post(
        f"/chat/approvals/{approval['id']}/decision", json={"decision": "approve"}
    )
    assert late.status_code == 409, late.text
    detail = late.json()["detail"]
    assert detail["code"] == "already_decided"
    assert "No decision" in detail["message"]
    # Nothing ran for nobody: the step's endpoint never ran.
    after = (await http.get(f"/pulse/executor/execution/{approval['execution_id']}")).json()
    assert after["status"] == "timeout"


async def test_an_unanswered_approval_ends_the_step_and_refuses_a_late_decision(
    manifest: Callable[..., Manifest],
    deploy_through: Deploy,
    workflow_started: Callable[..., Awaitable[str]],
    http_to: AppClient,
) -> None:
    local = LocalPlatform.start(PlatformConfig(approval_wait=0.2))
    try:
        async with http_to(local) as http:
            agent = await deploy_through(http, manifest())
            base = await workflow_started(http, agent["id"], "guarded", "echo")
            await _assert_expired(http, base)
            # As any failed run: retried from the step, which asks again.
            assert (await http.post(f"{base}/retry")).status_code == 200
            await _until(http, "/chat/approvals?status=pending", lambda a: a["total"] == 1)
    finally:
        await local.aclose()


@pytest.fixture
def resumed(
    tmp_path: Path,
    manifest: Callable[..., Manifest],
    deploy_through: Deploy,
    workflow_started: Callable[..., Awaitable[str]],
    http_to: AppClient,
) -> Resumed:
    """``async with resumed(age)``: a workflow waiting for its first step's approval,
    requested ``age`` seconds ago, then a restart: a client of the reopened platform,
    that platform and the execution's URL."""

    @asynccontextmanager
    async def make(age: float) -> AsyncIterator[tuple[httpx.AsyncClient, LocalPlatform, str]]:
        config = PlatformConfig(data_path=tmp_path / "platform.db")
        first = LocalPlatform.start(config)
        async with http_to(first) as http:
            agent = await deploy_through(http, manifest())
            base = await workflow_started(http, agent["id"], "guarded", "echo")
            listed = await _until(http, "/chat/approvals", lambda a: a["total"] == 1)
        await first.aclose()
        store = Store(config.data_path)
        try:
            approval = store.get("approval", listed["approvals"][0]["id"])
            assert approval is not None
            approval["requested_at"] = iso_at(seconds_of(approval["requested_at"]) - age)
            store.save("approval", approval)
        finally:
            store.close()
        again = LocalPlatform.start(config)
        try:
            async with http_to(again) as http:
                yield http, again, base
        finally:
            await again.aclose()

    return make


async def test_a_resumed_wait_ends_when_its_time_from_the_request_is_up(
    resumed: Resumed,
) -> None:
    # Requested 1000 s ago: past the 300 s bound at the first tick after the restart
    # (counted from the restart, it would wait 300 s more).
    async with resumed(1000) as (http, local, base):
        await local.platform.tick()
        await _assert_expired(http, base)


async def test_a_resumed_wait_goes_on_until_its_time_is_up(resumed: Resumed) -> None:
    async with resumed(0) as (http, local, base):
        [approval] = (await http.get("/chat/approvals")).json()["approvals"]
        requested = seconds_of(approval["requested_at"])
        await local.platform.tick(requested + 299)
        waiting = (await http.get(base)).json()
        assert [t["status"] for t in waiting["tasks"]] == ["running", "pending"]
        assert (await http.get(f"/chat/approvals/{approval['id']}")).json()["status"] == "pending"
        await local.platform.tick(requested + 301)
        await _assert_expired(http, base)


async def test_a_wait_whose_decision_another_process_served_ends_at_its_time(
    tmp_path: Path,
    manifest: Callable[..., Manifest],
    deploy_through: Deploy,
    workflow_started: Callable[..., Awaitable[str]],
    http_to: AppClient,
) -> None:
    # Two processes on one data file: the other one decides, runs the step and goes on
    # with the workflow. This one's runner, never woken by that decision, ends when its
    # wait is up, recording nothing (it waited for good for a run of its own, or failed
    # the step the other process was running).
    config = PlatformConfig(data_path=tmp_path / "platform.db", approval_wait=0.3)
    here = LocalPlatform.start(config)
    try:
        async with http_to(here) as http:
            agent = await deploy_through(http, manifest())
            base = await workflow_started(http, agent["id"], "guarded", "echo")
            listed = await _until(http, "/chat/approvals", lambda a: a["total"] == 1)
            execution_id = base.rsplit("/", 1)[-1]
            assert execution_id in here.platform.workflows.running()
            there = Platform(config)
            try:
                approval = there.store.get("approval", listed["approvals"][0]["id"])
                assert approval is not None
                await there.engine.decide(approval, approve=True, comment=None, by=None)
                done = await _until(http, base, lambda e: e["status"] != "running")
                assert done["status"] == "completed", [
                    (t["status"], t.get("error")) for t in done["tasks"]
                ]
                for _ in range(100):  # up to 5 s; the wait here is 0.3 s
                    if execution_id not in here.platform.workflows.running():
                        break
                    await asyncio.sleep(0.05)
                assert execution_id not in here.platform.workflows.running()
            finally:
                await there.aclose()
    finally:
        await here.aclose()
