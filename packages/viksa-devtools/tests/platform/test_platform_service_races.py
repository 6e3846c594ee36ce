"""Triggers, schedules, builds and workflows under interleaved requests.

Each service reads a record, awaits something (the inputs check, the validator, a
step), then writes. A request served during that await must not be undone by the
write that follows it, nor make a step run twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform.services import _agents, _deployments
from viksa_ai.devtools.platform.services._clock import seconds_of
from viksa_ai.devtools.platform.services._workflows import MAX_WORKFLOW_STEPS

Manifest = dict[str, Any]
EchoSchedule = Callable[[httpx.AsyncClient, Manifest], Awaitable[Manifest]]


class Gate:
    """Parks the callers of an async function until :meth:`open`; counts who arrived."""

    def __init__(self, real: Callable[..., Awaitable[Any]]) -> None:
        self.real = real
        self.calls = 0
        self._counted = asyncio.Condition()
        self._open = asyncio.Event()

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        async with self._counted:
            self.calls += 1
            self._counted.notify_all()
        await self._open.wait()
        return await self.real(*args, **kwargs)

    async def reached(self, calls: int = 1) -> None:
        """Return once ``calls`` callers have arrived."""
        async with self._counted:
            await self._counted.wait_for(lambda: self.calls >= calls)

    def open(self) -> None:
        self._open.set()


@asynccontextmanager
async def parked(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> AsyncIterator[Gate]:
    """``owner.name`` replaced by a :class:`Gate` for the block (opened on the way out)."""
    gate = Gate(getattr(owner, name))
    monkeypatch.setattr(owner, name, gate)
    try:
        yield gate
    finally:
        gate.open()
        monkeypatch.setattr(owner, name, gate.real)


class Hook:
    """A trigger of the test agent's echo, its webhook URL and token header."""

    def __init__(self, trigger: Manifest) -> None:
        self.id = str(trigger["id"])
        self.url = f"/chat/webhook/trigger/{self.id}"
        self.token = {"Authorization": f"Bearer {trigger['webhook_token']}"}


@pytest.fixture
async def hook(http: httpx.AsyncClient, deployed: Manifest) -> Hook:
    """A new trigger of the deployed test agent's echo."""
    body = {"agent_id": deployed["id"], "endpoint": "echo.main.echo"}
    made = await http.post("/chat/trigger", json=body)
    assert made.status_code == 201, made.text
    return Hook(made.json())


async def _change_during_a_call(
    http: httpx.AsyncClient,
    platform: LocalPlatform,
    monkeypatch: pytest.MonkeyPatch,
    hook: Hook,
    change: Manifest,
) -> tuple[httpx.Response, httpx.Response]:
    """The answers to a webhook call and to ``PATCH change`` sent while the call runs."""
    async with parked(monkeypatch, platform.platform.engine, "check_inputs") as gate:
        call = asyncio.ensure_future(http.post(hook.url, json={"text": "x"}, headers=hook.token))
        await gate.reached()
        changed = await http.patch(f"/chat/trigger/{hook.id}", json=change)
        assert changed.status_code == 200, changed.text
        gate.open()
        return await call, changed


async def test_a_webhook_call_in_flight_does_not_bring_back_a_rotated_token(
    http: httpx.AsyncClient,
    hook: Hook,
    viksa_platform: LocalPlatform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    change = {"rotate_token": True, "name": "renamed"}
    call, rotated = await _change_during_a_call(http, viksa_platform, monkeypatch, hook, change)
    assert call.status_code == 200
    stored = (await http.get(f"/chat/trigger/{hook.id}")).json()
    assert (stored["name"], stored["execution_count"]) == ("renamed", 1)
    assert (await http.post(hook.url, json={"text": "y"}, headers=hook.token)).status_code == 401
    new = {"Authorization": f"Bearer {rotated.json()['webhook_token']}"}
    assert (await http.post(hook.url, json={"text": "y"}, headers=new)).status_code == 200


async def test_a_webhook_call_in_flight_does_not_enable_a_disabled_trigger(
    http: httpx.AsyncClient,
    hook: Hook,
    viksa_platform: LocalPlatform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    change = {"enabled": False}
    call, _ = await _change_during_a_call(http, viksa_platform, monkeypatch, hook, change)
    # Switched off before the run was recorded: refused, as a call made now is.
    assert call.json()["detail"]["code"] == "trigger_disabled"
    assert (await http.get(f"/chat/trigger/{hook.id}")).json()["enabled"] is False
    refused = await http.post(hook.url, json={"text": "y"}, headers=hook.token)
    assert refused.status_code == 409


async def test_fifty_calls_of_one_webhook_at_once_are_each_counted(
    http: httpx.AsyncClient, hook: Hook
) -> None:
    answers = await asyncio.gather(
        *(http.post(hook.url, json={"text": str(n)}, headers=hook.token) for n in range(50))
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["execution_id"] for a in answers}) == 50
    stored = (await http.get(f"/chat/trigger/{hook.id}")).json()
    assert stored["execution_count"] == 50
    listed = await http.get(f"/chat/trigger/{hook.id}/executions", params={"limit": 100})
    assert listed.json()["total"] == 50


async def test_a_schedule_paused_while_it_fires_stays_paused(
    http: httpx.AsyncClient,
    deployed: Manifest,
    echo_schedule: EchoSchedule,
    viksa_platform: LocalPlatform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schedule = await echo_schedule(http, deployed)
    base = f"/scheduler/schedule/{schedule['id']}"
    async with parked(monkeypatch, viksa_platform.platform.engine, "check_inputs") as gate:
        fired = asyncio.ensure_future(http.post(f"{base}/run-now"))
        await gate.reached()
        assert (await http.post(f"{base}/pause")).json()["status"] == "paused"
        edited = await http.patch(base, json={"name": "nightly", "interval_seconds": 120})
        assert edited.status_code == 200, edited.text
        gate.open()
        assert (await fired).json()["run_count"] == 1
    stored = (await http.get(base)).json()
    assert (stored["status"], stored["name"], stored["interval_seconds"]) == (
        "paused",
        "nightly",
        120,
    )
    assert (stored["run_count"], stored["next_run_at"]) == (1, None)


async def test_a_schedule_deleted_while_it_fires_stays_deleted(
    http: httpx.AsyncClient,
    deployed: Manifest,
    viksa_platform: LocalPlatform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = {"agent_id": deployed["id"], "endpoint": "echo.main.echo", "inputs": {"text": "t"}}
    schedule = (await http.post("/scheduler/schedule/create", json=body)).json()
    base = f"/scheduler/schedule/{schedule['id']}"
    async with parked(monkeypatch, viksa_platform.platform.engine, "check_inputs") as gate:
        fired = asyncio.ensure_future(http.post(f"{base}/run-now"))
        await gate.reached()
        assert (await http.delete(base)).status_code == 200
        gate.open()
        await fired
    assert (await http.get(base)).status_code == 404
    assert (await http.get("/scheduler/schedule/list")).json()["total"] == 0


async def test_an_agent_edited_while_it_builds_keeps_the_edit(
    http: httpx.AsyncClient,
    deployed: Manifest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agent = f"/builder/agent/{deployed['id']}"
    async with parked(monkeypatch, _deployments, "manifest_issues") as gate:
        build = asyncio.ensure_future(
            http.post("/builder/builder/", json={"agent_id": deployed["id"]})
        )
        await gate.reached()
        edited = await http.put(agent, json={"agent_description": "edited meanwhile"})
        assert edited.status_code == 200, edited.text
        gate.open()
        built = await build
    assert built.status_code == 200, built.text
    stored = (await http.get(agent)).json()
    assert (stored["agent_description"], stored["revision"]) == ("edited meanwhile", 2)
    # The build checked revision 1: revision 2 is not built, so it does not deploy.
    assert (stored["built_revision"], stored["build_status"]) == (1, "outdated")
    refused = await http.post("/builder/deploy/", json={"agent_id": deployed["id"]})
    assert refused.json()["detail"]["code"] == "not_built"


async def test_a_tick_skips_a_schedule_paused_while_an_earlier_one_fired(
    http: httpx.AsyncClient,
    deployed: Manifest,
    echo_schedule: EchoSchedule,
    viksa_platform: LocalPlatform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = [await echo_schedule(http, deployed) for _ in range(2)]
    due = seconds_of(second["next_run_at"]) + 1
    async with parked(monkeypatch, viksa_platform.platform.engine, "check_inputs") as gate:
        tick = asyncio.ensure_future(viksa_platform.platform.tick(now=due))
        await gate.reached()
        paused = await http.post(f"/scheduler/schedule/{second['id']}/pause")
        assert paused.json()["status"] == "paused"
        gate.open()
        assert await tick == 1
    ran = (await http.get(f"/scheduler/schedule/{first['id']}")).json()
    skipped = (await http.get(f"/scheduler/schedule/{second['id']}")).json()
    assert (ran["run_count"], skipped["run_count"], skipped["status"]) == (1, 0, "paused")


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait (bounded) until ``check()`` holds: a background run's end has no event."""
    for _ in range(2000):
        if await check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the background run did not get there")


async def test_a_stopped_workflow_is_not_retried_while_its_step_still_runs(
    http: httpx.AsyncClient,
    deployed: Manifest,
    viksa_platform: LocalPlatform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps = [
        {"agent_id": deployed["id"], "endpoint": "echo.main.echo", "inputs": {"text": t}}
        for t in ("a", "b")
    ]
    workflow = (await http.post("/workflow/create", json={"steps": steps})).json()
    async with parked(monkeypatch, viksa_platform.platform.engine, "execute") as gate:
        started = await http.post("/workflow/start", json={"workflow_id": workflow["id"]})
        base = f"/workflow/execution/{started.json()['id']}"
        await gate.reached()
        assert (await http.post(f"{base}/stop")).json()["status"] == "stopped"
        early = await http.post(f"{base}/retry")
        assert (early.status_code, early.json()["detail"]["code"]) == (409, "stopping")
        gate.open()

        async def first_step_ended() -> bool:
            tasks = (await http.get(base)).json()["tasks"]
            return bool(tasks[0]["status"] == "completed")

        await _until(first_step_ended)
        assert (await http.post(f"{base}/retry")).json()["status"] == "running"

        async def finished() -> bool:
            return bool((await http.get(base)).json()["status"] == "completed")

        await _until(finished)
    # Step "a" ran once (its result was kept when it ended after the stop), then "b".
    assert gate.calls == 2
    tasks = (await http.get(base)).json()["tasks"]
    assert [t["response"]["text"] for t in tasks] == ["a", "b"]


async def test_stopping_a_workflow_ends_the_approval_its_step_waits_for(
    http: httpx.AsyncClient, deployed: Manifest, workflow_started: Callable[..., Awaitable[str]]
) -> None:
    base = await workflow_started(http, deployed["id"], "guarded", "echo")

    async def waiting() -> bool:
        return bool((await http.get("/chat/approvals")).json()["total"] == 1)

    await _until(waiting)
    assert (await http.post(f"{base}/stop")).json()["status"] == "stopped"
    [approval] = (await http.get("/chat/approvals")).json()["approvals"]
    # Approving it later would run the step for a workflow that no longer waits.
    assert approval["status"] == "cancelled"

    async def step_ended() -> bool:
        return bool((await http.get(base)).json()["tasks"][0]["status"] == "failed")

    await _until(step_ended)
    assert (await http.post(f"{base}/retry")).json()["status"] == "running"

    async def asked_again() -> bool:
        found = (await http.get("/chat/approvals", params={"status": "pending"})).json()
        return bool(found["total"] == 1)

    await _until(asked_again)
    [again] = (await http.get("/chat/approvals", params={"status": "pending"})).json()["approvals"]
    decided = await http.post(f"/chat/approvals/{again['id']}/decision", json={"approved": True})
    assert decided.status_code == 200

    async def finished() -> bool:
        return bool((await http.get(base)).json()["status"] == "completed")

    await _until(finished)


@pytest.mark.parametrize("name", [5, {"a": 1}, ["x"], True])
async def test_workflow_schedule_and_trigger_names_are_text(
    http: httpx.AsyncClient, deployed: Manifest, name: Any
) -> None:
    step = {"agent_id": deployed["id"], "endpoint": "echo.main.echo"}
    workflow = (await http.post("/workflow/create", json={"steps": [step]})).json()
    schedule = (await http.post("/scheduler/schedule/create", json=step)).json()
    trigger = (await http.post("/chat/trigger", json=step)).json()
    refused = [
        await http.post("/workflow/create", json={"name": name, "steps": [step]}),
        await http.patch(f"/workflow/id/{workflow['id']}", json={"name": name}),
        await http.post("/workflow/clone", json={"workflow_id": workflow["id"], "name": name}),
        await http.post("/scheduler/schedule/create", json={**step, "name": name}),
        await http.patch(f"/scheduler/schedule/{schedule['id']}", json={"name": name}),
        await http.post("/chat/trigger", json={**step, "name": name}),
        await http.patch(f"/chat/trigger/{trigger['id']}", json={"name": name}),
    ]
    assert [(a.status_code, a.json()["detail"][0]["loc"]) for a in refused] == [
        (422, ["body", "name"])
    ] * len(refused)
    assert (await http.get("/workflow/list")).json()["total"] == 1
    assert (await http.get(f"/chat/trigger/{trigger['id']}")).json()["name"] == "webhook"


@pytest.fixture
async def fresh_agent(http: httpx.AsyncClient, manifest: Callable[..., Manifest]) -> Manifest:
    """A new test agent, created only (not built)."""
    created = await http.post("/builder/agent/create", json=manifest())
    assert created.status_code == 201, created.text
    agent: Manifest = created.json()
    return agent


async def test_an_agent_deployed_while_an_edit_is_checked_stays_deployed(
    http: httpx.AsyncClient, fresh_agent: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = fresh_agent
    url = f"/builder/agent/{agent['id']}"
    async with parked(monkeypatch, _agents, "manifest_issues") as gate:
        edit = asyncio.ensure_future(http.put(url, json={"agent_description": "edited"}))
        await gate.reached()
        for route in ("/builder/builder/", "/builder/deploy/"):
            assert (await http.post(route, json={"agent_id": agent["id"]})).status_code == 200
        gate.open()
        assert (await edit).status_code == 200
    stored = (await http.get(url)).json()
    # Revision 1 was built and deployed meanwhile; the edit made revision 2.
    assert (stored["agent_description"], stored["revision"]) == ("edited", 2)
    assert (stored["deploy_status"], stored["deployed_revision"]) == ("deployed", 1)
    assert (stored["build_status"], stored["built_revision"]) == ("outdated", 1)


async def test_two_edits_checked_at_once_are_told_apart_from_an_alias_clash(
    http: httpx.AsyncClient, fresh_agent: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"/builder/agent/{fresh_agent['id']}"
    async with parked(monkeypatch, _agents, "manifest_issues") as gate:
        edits = [
            asyncio.ensure_future(http.put(url, json={"agent_description": text}))
            for text in ("first", "second")
        ]
        await gate.reached(2)
        gate.open()
        answers = await asyncio.gather(*edits)
    assert sorted(a.status_code for a in answers) == [200, 409]
    [lost] = [a for a in answers if a.status_code == 409]
    assert lost.json()["detail"]["code"] == "edit_conflict"
    [kept] = [a for a in answers if a.status_code == 200]
    stored = (await http.get(url)).json()
    assert (stored["agent_description"], stored["revision"]) == (
        kept.json()["agent_description"],
        2,
    )


@pytest.fixture
async def step_in_flight(
    http: httpx.AsyncClient,
    deployed: Manifest,
    viksa_platform: LocalPlatform,
    monkeypatch: pytest.MonkeyPatch,
    workflow_started: Callable[..., Awaitable[str]],
) -> AsyncIterator[tuple[Gate, str]]:
    """A started two-step workflow whose first step's run is parked: its gate and URL."""
    async with parked(monkeypatch, viksa_platform.platform.engine, "execute") as gate:
        base = await workflow_started(http, deployed["id"], "echo", "echo")
        await gate.reached()
        yield gate, base


async def test_a_stopped_workflow_is_not_deleted_while_its_step_still_runs(
    http: httpx.AsyncClient,
    step_in_flight: tuple[Gate, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate, base = step_in_flight
    assert (await http.post(f"{base}/stop")).json()["status"] == "stopped"
    early = await http.delete(base)
    assert (early.status_code, early.json()["detail"]["code"]) == (409, "stopping")
    gate.open()

    async def deleted() -> bool:
        return (await http.delete(base)).status_code == 200

    await _until(deleted)
    # The run that ended after the stop found its execution to write to.
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_a_workforce_workflow_runs_only_agents_of_the_workforce(
    http: httpx.AsyncClient,
    deployed: Manifest,
    deploy: Callable[[Manifest], Awaitable[Manifest]],
    manifest: Callable[..., Manifest],
) -> None:
    market = "/marketplace/api/v1/marketplace"
    other = await deploy(manifest("other"))
    step = {"agent_id": other["id"], "endpoint": "other.main.echo", "id": "s"}
    workflow = (await http.post("/workflow/create", json={"steps": [step]})).json()
    await http.post(f"{market}/publishers/profile", json={"display_name": "Me"})
    team = {"agent_ids": [deployed["id"]], "workflow_id": workflow["id"]}
    # Installed, the step would name the publisher's agent: a workflow that never runs
    # in the installer's project (and shows them another account's agent id).
    refused = await http.post(f"{market}/workforce/publish", json=team)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", "workflow_id"]
    whole = {**team, "agent_ids": [deployed["id"], other["id"]]}
    assert (await http.post(f"{market}/workforce/publish", json=whole)).status_code == 201


async def test_a_workflow_has_at_most_max_workflow_steps(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    # Each step's end rewrites the whole execution: 100,000 steps held the event loop
    # (every account's requests) about a second per write, for days.
    step = {"agent_id": deployed["id"], "endpoint": "echo.main.echo"}
    too_many = [step] * (MAX_WORKFLOW_STEPS + 1)
    refused = await http.post("/workflow/create", json={"steps": too_many})
    assert (refused.status_code, refused.json()["detail"][0]["loc"]) == (422, ["body", "steps"])
    made = await http.post("/workflow/create", json={"steps": too_many[1:]})
    assert made.status_code == 201, made.text
    patched = await http.patch(f"/workflow/id/{made.json()['id']}", json={"steps": too_many})
    assert (patched.status_code, patched.json()["detail"][0]["loc"]) == (422, ["body", "steps"])


@pytest.mark.parametrize("metadata", ["text", 5, ["x"]])
async def test_a_new_conversation_takes_metadata_as_an_object_only(
    http: httpx.AsyncClient, metadata: Any
) -> None:
    # As a conversation update does: kept as sent, it read as what it is not.
    routes = ("/chat/message", "/chat/indent_finder", "/chat/indent_finder/stream")
    for route, text in zip(routes, ("content", "message", "message"), strict=True):
        refused = await http.post(route, json={text: "hi", "metadata": metadata})
        assert (refused.status_code, refused.json()["detail"][0]["loc"]) == (
            422,
            ["body", "metadata"],
        )
    assert (await http.get("/chat/conversations")).json()["total"] == 0


_NEST = """

@mcp_endpoint(description="A result nested as deep as the text says")
async def nest(payload: Dict[str, Any]):
    value: Any = []
    for _ in range(int(payload.get("text"))):
        value = [value]
    return value
"""


@pytest.fixture
async def nesting(
    deploy: Callable[[Manifest], Awaitable[Manifest]], manifest: Callable[..., Manifest]
) -> Manifest:
    """The test agent with ``echo.main.nest``: a result nested ``int(text)`` arrays deep."""
    body = manifest()
    body["files"][0]["content"] += _NEST
    nest = {"module": "main", "outputs": [], "name": "nest", "description": "nest"}
    body["agent_endpoints"].append({**nest, "inputs": [{"input_ref": "text"}]})
    return await deploy(body)


async def test_a_step_result_too_deep_for_the_workflow_fails_the_step(
    http: httpx.AsyncClient, nesting: Manifest
) -> None:
    # 510 arrays fit the step's own execution record (512 levels), not the workflow
    # execution that keeps it two levels further down: the run crashed, answering a 422
    # about the request body and leaving the execution running for good.
    step = {"agent_id": nesting["id"], "endpoint": "echo.main.nest", "inputs": {"text": "510"}}
    workflow = (await http.post("/workflow/create", json={"steps": [step]})).json()
    ran = await http.post(f"/workflow/{workflow['id']}/execute")
    assert (ran.status_code, ran.json()["status"]) == (200, "failed"), ran.text
    [task] = ran.json()["tasks"]
    assert task["status"] == "failed"
    assert "cannot be kept in the workflow execution" in task["error"]
    stored = (await http.get(f"/workflow/execution/{ran.json()['id']}")).json()
    assert stored["status"] == "failed"


async def test_a_deep_step_result_does_not_break_the_answers_that_show_it(
    http: httpx.AsyncClient, nesting: Manifest
) -> None:
    # A result 300 arrays deep is stored (up to 512 levels), and every answer carrying it
    # was a 500 ("Maximum serialization depth exceeded"): the whole execution list of
    # the project with it.
    body = {"agent_id": nesting["id"], "endpoint": "echo.main.nest"}
    step = {**body, "inputs": {"text": "300"}}
    workflow = (await http.post("/workflow/create", json={"steps": [step]})).json()
    ran = (await http.post(f"/workflow/{workflow['id']}/execute")).json()
    assert ran["status"] == "completed"
    hook = (await http.post("/chat/trigger", json=body)).json()
    token = {"Authorization": f"Bearer {hook['webhook_token']}"}
    called = await http.post(
        f"/chat/webhook/trigger/{hook['id']}", json={"text": "300"}, headers=token
    )
    assert called.status_code == 200
    run = called.json()["execution_id"]
    urls = [
        "/pulse/executor/executions",
        f"/pulse/executor/execution/{run}",
        "/workflow/execution/list",
        f"/workflow/execution/workflow/{workflow['id']}/list",
        f"/workflow/execution/{ran['id']}",
        f"/workflow/related/{workflow['id']}",
        f"/chat/trigger/{hook['id']}/executions",
        f"/chat/executions/{run}/events",
    ]
    for url in urls:
        answer = await http.get(url)
        assert answer.status_code == 200, url
    inspected = await http.post(f"/chat/executions/{run}/debug/start", json={})
    assert inspected.status_code == 200


async def test_a_workflow_whose_agent_is_deleted_mid_run_ends_failed(
    http: httpx.AsyncClient, step_in_flight: tuple[Gate, str], deployed: Manifest
) -> None:
    gate, base = step_in_flight
    assert (await http.delete(f"/builder/agent/{deployed['id']}")).status_code == 200
    gate.open()

    async def ended() -> bool:
        return bool((await http.get(base)).json()["status"] != "running")

    await _until(ended)
    execution = (await http.get(base)).json()
    assert execution["status"] == "failed"
    # No step is left running, and the reason names the agent.
    assert [t["status"] for t in execution["tasks"]] == ["failed", "pending"]
    assert deployed["id"] in execution["error"]


async def test_a_workflow_running_when_its_project_is_deleted_ends_quietly(
    http: httpx.AsyncClient,
    step_in_flight: tuple[Gate, str],
    viksa_platform: LocalPlatform,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate, _ = step_in_flight
    project = viksa_platform.credentials.project_id
    assert (await http.delete(f"/project/{project}")).status_code == 200
    gate.open()

    async def ended() -> bool:
        return not viksa_platform.platform.workflows.running()

    await _until(ended)
    # The run finds its execution gone with the project: it ends, it does not fail loudly.
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
