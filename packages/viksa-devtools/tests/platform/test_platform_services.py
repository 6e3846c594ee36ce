"""Workflow, scheduler and marketplace: stored records and their state transitions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform.services import _marketplace
from viksa_ai.devtools.platform.services._agents import checked_agent
from viksa_ai.devtools.platform.services._clock import iso_at, seconds_of
from viksa_ai.devtools.platform.services._scheduler import cron_shaped

Manifest = dict[str, Any]
MARKET = "/marketplace/api/v1/marketplace"


async def _workflow(
    http: httpx.AsyncClient, agent: Manifest, *steps: tuple[str, dict[str, Any]]
) -> Manifest:
    body = {
        "name": "wf",
        "steps": [
            {
                "id": f"s{i}",
                "agent_id": agent["id"],
                "endpoint": f"echo.main.{name}",
                "inputs": inputs,
            }
            for i, (name, inputs) in enumerate(steps)
        ],
    }
    answer = await http.post("/workflow/create", json=body)
    assert answer.status_code == 201, answer.text
    workflow: Manifest = answer.json()
    return workflow


async def _settled(http: httpx.AsyncClient, execution_id: str) -> Manifest:
    execution: Manifest = {}
    for _ in range(300):
        execution = (await http.get(f"/workflow/execution/{execution_id}")).json()
        if execution["status"] not in ("created", "running"):
            break
        await asyncio.sleep(0.02)
    return execution


async def test_a_workflow_runs_its_steps_through_pulse(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    workflow = await _workflow(http, deployed, ("echo", {"text": "a"}), ("echo", {"text": "b"}))
    done = (await http.post(f"/workflow/{workflow['id']}/execute")).json()
    assert done["status"] == "completed"
    assert [t["response"]["text"] for t in done["tasks"]] == ["a", "b"]
    assert done["tasks"][1]["execution_id"].startswith("exe_")
    started = (await http.post("/workflow/start", json={"workflow_id": workflow["id"]})).json()
    assert started["status"] == "running"
    assert (await _settled(http, started["id"]))["status"] == "completed"
    listed = (await http.get("/workflow/list")).json()
    assert listed["total"] == 1
    related = (await http.get(f"/workflow/related/{workflow['id']}")).json()
    assert len(related["executions"]) == 2
    for_workflow = (await http.get(f"/workflow/execution/workflow/{workflow['id']}/list")).json()
    assert for_workflow["total"] == 2


async def test_a_workflow_with_a_guarded_step_is_answered_before_its_approval(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    workflow = await _workflow(http, deployed, ("echo", {"text": "a"}), ("guarded", {"text": "b"}))
    started = await http.post(f"/workflow/{workflow['id']}/execute")
    assert (started.status_code, started.json()["status"]) == (202, "running")
    approvals: list[Manifest] = []
    for _ in range(300):
        approvals = (await http.get("/chat/approvals", params={"status": "pending"})).json()[
            "approvals"
        ]
        if approvals:
            break
        await asyncio.sleep(0.02)
    assert [a["endpoint"] for a in approvals] == ["echo.main.guarded"]
    decision = f"/chat/approvals/{approvals[0]['id']}/decision"
    assert (await http.post(decision, json={"decision": "approve"})).status_code == 200
    done = await _settled(http, started.json()["id"])
    assert done["status"] == "completed"
    assert done["tasks"][1]["response"] == {"approved_text": "b"}


async def test_a_failed_step_fails_the_execution_and_retry_resumes_it(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    workflow = await _workflow(http, deployed, ("echo", {"text": "a"}), ("fail", {}))
    failed = (await http.post(f"/workflow/{workflow['id']}/execute")).json()
    assert failed["status"] == "failed"
    assert [t["status"] for t in failed["tasks"]] == ["completed", "failed"]
    patched = await http.patch(
        f"/workflow/execution/{failed['id']}/tasks",
        json={"tasks": [{"step_id": "s1", "inputs": {}}]},
    )
    assert patched.status_code == 200
    await http.patch(
        f"/workflow/id/{workflow['id']}",
        json={"steps": [{"id": "s0", "agent_id": deployed["id"], "endpoint": "echo.main.echo"}]},
    )
    retried = (await http.post(f"/workflow/execution/{failed['id']}/retry")).json()
    assert retried["status"] == "running"
    assert retried["tasks"][0]["status"] == "completed"
    assert (await _settled(http, failed["id"]))["status"] == "failed"
    not_created = await http.post(f"/workflow/execution/{failed['id']}/start")
    assert not_created.status_code == 409
    assert not_created.json()["detail"]["message"].endswith(
        "only created executions can be started."
    )
    step = {"id": "s0", "agent_id": deployed["id"], "endpoint": "echo.main.echo"}
    await http.patch(
        f"/workflow/id/{workflow['id']}", json={"steps": [{**step, "inputs": {"text": "c"}}]}
    )
    done = (await http.post(f"/workflow/{workflow['id']}/execute")).json()
    assert done["status"] == "completed"
    again = await http.post(f"/workflow/execution/{done['id']}/retry")
    assert again.status_code == 409
    assert again.json()["detail"]["message"] == (
        f"Workflow execution {done['id']!r} is completed: only failed or cancelled or "
        "stopped executions can be retried."
    )


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("endpoint", [], "string_type"),
        ("endpoint", {"a": 1}, "string_type"),
        ("endpoint", None, "missing"),
        ("agent_id", 7, "string_type"),
        ("id", {"a": 1}, "string_type"),
        ("id", [1], "string_type"),
        ("id", 5, "string_type"),
        ("name", ["x"], "string_type"),
        ("inputs", "text", "dict_type"),
        ("inputs", [1], "dict_type"),
    ],
)
async def test_a_step_of_the_wrong_shape_is_422_naming_its_field_and_nothing_is_stored(
    http: httpx.AsyncClient, deployed: Manifest, field: str, value: Any, kind: str
) -> None:
    # These were stored (or a 500), then broke every run and task change of the workflow.
    good = {"id": "s", "agent_id": deployed["id"], "endpoint": "echo.main.echo", "inputs": {}}
    body = {"name": "wf", "steps": [good, {**good, "id": "t", field: value}]}
    answer = await http.post("/workflow/create", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == [
        {"loc": ["body", "steps", 1, field], "msg": answer.json()["detail"][0]["msg"], "type": kind}
    ]
    workflow = await _workflow(http, deployed, ("echo", {"text": "a"}))
    patched = await http.patch(f"/workflow/id/{workflow['id']}", json=body)
    assert patched.status_code == 422, patched.text
    listed = (await http.get("/workflow/list")).json()
    assert [w["steps"] for w in listed["workflows"]] == [workflow["steps"]]


async def test_a_workflow_stored_with_odd_step_ids_still_takes_task_changes(
    http: httpx.AsyncClient, deployed: Manifest, viksa_platform: LocalPlatform
) -> None:
    # As an earlier version stored it: a dict step id made every task change a 500.
    workflow = await _workflow(http, deployed, ("echo", {"text": "a"}), ("echo", {"text": "b"}))
    store = viksa_platform.platform.store
    stored = store.get("workflow", workflow["id"])
    assert stored is not None
    stored["steps"][0]["id"] = {"odd": 1}
    store.save("workflow", stored)
    made = await http.post("/workflow/execution/create", json={"workflow_id": workflow["id"]})
    route = f"/workflow/execution/{made.json()['id']}/tasks"
    tasks = [{"step_id": "s1", "inputs": {"text": "c"}}]
    changed = await http.patch(route, json={"tasks": tasks})
    assert changed.status_code == 200, changed.text
    assert [t["inputs"] for t in changed.json()["tasks"]] == [{"text": "a"}, {"text": "c"}]
    missing = await http.patch(route, json={"tasks": [{"step_id": "s0", "inputs": {}}]})
    assert missing.status_code == 422


async def test_steps_get_ids_of_their_own(http: httpx.AsyncClient, deployed: Manifest) -> None:
    step = {"agent_id": deployed["id"], "endpoint": "echo.main.echo", "inputs": {"text": "a"}}
    made = await http.post(
        "/workflow/create", json={"steps": [{**step, "id": None}, {**step, "inputs": None}]}
    )
    assert made.status_code == 201, made.text
    assert [(s["id"], s["inputs"]) for s in made.json()["steps"]] == [
        ("step_1", {"text": "a"}),
        ("step_2", {}),
    ]
    twice = await http.post("/workflow/create", json={"steps": [{**step, "id": "s"}] * 2})
    assert twice.status_code == 422
    assert twice.json()["detail"][0]["loc"] == ["body", "steps", 1, "id"]
    execution = await http.post(
        "/workflow/execution/create", json={"workflow_id": made.json()["id"]}
    )
    tasks = [{"step_id": "step_2", "inputs": {"text": "b"}}]
    changed = await http.patch(
        f"/workflow/execution/{execution.json()['id']}/tasks", json={"tasks": tasks}
    )
    assert changed.status_code == 200, changed.text
    assert [t["inputs"] for t in changed.json()["tasks"]] == [{"text": "a"}, {"text": "b"}]
    # Inputs of another type were ignored with a 200.
    for inputs in ("b", [1], None):
        odd = [{"step_id": "step_2", "inputs": inputs}]
        refused = await http.patch(
            f"/workflow/execution/{execution.json()['id']}/tasks", json={"tasks": odd}
        )
        assert refused.status_code == 422, refused.text


async def test_execution_transitions(http: httpx.AsyncClient, deployed: Manifest) -> None:
    workflow = await _workflow(http, deployed, ("echo", {"text": "a"}))
    created = (
        await http.post("/workflow/execution/create", json={"workflow_id": workflow["id"]})
    ).json()
    assert created["status"] == "created"
    body = {"workflow_id": workflow["id"], "schedule_id": "sch_missing"}
    unknown = await http.post("/workflow/execution/create", json=body)
    assert (unknown.status_code, unknown.json()["detail"]) == (
        404,
        "Schedule 'sch_missing' not found",
    )
    not_an_id = await http.post("/workflow/execution/create", json={**body, "schedule_id": 7})
    assert not_an_id.json()["detail"][0]["loc"] == ["body", "schedule_id"]
    schedule = (
        await http.post("/scheduler/schedule/create", json={"workflow_id": workflow["id"]})
    ).json()
    scheduled = await http.post(
        "/workflow/execution/create", json={**body, "schedule_id": schedule["id"]}
    )
    assert (scheduled.status_code, scheduled.json()["schedule_id"]) == (201, schedule["id"])
    await http.delete(f"/workflow/execution/{scheduled.json()['id']}")
    assert (await http.post(f"/workflow/execution/{created['id']}/stop")).status_code == 409
    cancelled = (await http.post(f"/workflow/execution/{created['id']}/cancel")).json()
    assert cancelled["status"] == "cancelled"
    assert (await http.post(f"/workflow/execution/{created['id']}/cancel")).status_code == 409
    rerun = (await http.post("/workflow/rerun", json={"execution_id": created["id"]})).json()
    assert (await _settled(http, rerun["id"]))["status"] == "completed"
    listed = (await http.get("/workflow/execution/list")).json()
    assert [e["id"] for e in listed["executions"]] == [rerun["id"], created["id"]]
    assert (await http.delete(f"/workflow/execution/{created['id']}")).status_code == 200
    clone = (await http.post("/workflow/clone", json={"workflow_id": workflow["id"]})).json()
    assert (clone["name"], clone["cloned_from"]) == ("wf (copy)", workflow["id"])
    assert (await http.delete(f"/workflow/{clone['id']}")).status_code == 200
    assert (await http.get(f"/workflow/id/{clone['id']}")).status_code == 404
    bad = await http.post(
        "/workflow/create", json={"steps": [{"agent_id": deployed["id"], "endpoint": "x"}]}
    )
    assert bad.status_code == 422


async def test_schedules_pause_resume_run_now_and_run_when_due(
    http: httpx.AsyncClient, deployed: Manifest, viksa_platform: LocalPlatform
) -> None:
    workflow = await _workflow(http, deployed, ("echo", {"text": "a"}))
    schedule = (
        await http.post(
            "/scheduler/schedule/create",
            json={"workflow_id": workflow["id"], "interval_seconds": 3600},
        )
    ).json()
    base = f"/scheduler/schedule/{schedule['id']}"
    assert schedule["status"] == "active"
    assert (await http.post(f"{base}/resume")).status_code == 409
    assert (await http.post(f"{base}/pause")).json()["status"] == "paused"
    assert await viksa_platform.platform.tick(now=seconds_of(schedule["next_run_at"]) + 1) == 0
    assert (await http.post(f"{base}/resume")).json()["status"] == "active"
    ran = (await http.post(f"{base}/run-now")).json()
    assert ran["run"]["schedule_id"] == schedule["id"]
    assert (await _settled(http, ran["run"]["id"]))["status"] == "completed"
    due = (await http.get(base)).json()["next_run_at"]
    assert await viksa_platform.platform.tick(now=seconds_of(due) + 1) == 1
    assert (await http.get(base)).json()["run_count"] == 2
    endpoint_schedule = await http.post(
        "/scheduler/schedule/create",
        json={"agent_id": deployed["id"], "endpoint": "echo.main.echo", "inputs": {"text": "t"}},
    )
    assert endpoint_schedule.status_code == 201
    run = (await http.post(f"/scheduler/schedule/{endpoint_schedule.json()['id']}/run-now")).json()
    assert run["run"]["source"] == "schedule"
    assert (await http.get("/scheduler/schedule/list")).json()["total"] == 2
    updated = (await http.patch(base, json={"name": "nightly", "status": "paused"})).json()
    assert (updated["name"], updated["status"]) == ("nightly", "active")
    assert (await http.post("/scheduler/schedule/create", json={})).status_code == 422
    assert (await http.delete(base)).status_code == 200


async def test_a_schedule_interval_must_be_a_number_of_seconds(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    target = {"agent_id": deployed["id"], "endpoint": "echo.main.echo"}
    for interval in (True, "60", 0):
        answer = await http.post(
            "/scheduler/schedule/create", json={**target, "interval_seconds": interval}
        )
        assert answer.status_code == 422, (interval, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["body", "interval_seconds"]
    made = await http.post("/scheduler/schedule/create", json={**target, "interval_seconds": 60})
    assert made.status_code == 201
    assert made.json()["next_run_at"] is not None


async def test_a_schedule_cron_must_have_the_shape_of_a_cron_expression(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    # Stored for the hosted platform, which runs it: garbage was accepted, and found out
    # only there.
    target = {"agent_id": deployed["id"], "endpoint": "echo.main.echo"}
    for cron in ("", "every day", "* * *", 5, ["*"], "<b>x</b> * * * *", "* " * 8, "1" * 300):
        answer = await http.post("/scheduler/schedule/create", json={**target, "cron": cron})
        assert answer.status_code == 422, (cron, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["body", "cron"]
    for cron in ("*/15 9-17 * * MON-FRI", "0 0 12 ? * WED", "0 0 L * ? 2027", "@daily"):
        made = await http.post("/scheduler/schedule/create", json={**target, "cron": cron})
        assert made.status_code == 201, (cron, made.text)
        assert made.json()["cron"] == cron


_CRON_ITEM = st.from_regex(r"\A(\*|[0-9]{1,2}(-[0-9]{1,2})?|[A-Z]{3})(/[0-9]{1,2})?\Z")
_CRON_FIELD = st.lists(_CRON_ITEM, min_size=1, max_size=3).map(",".join)


@given(st.lists(_CRON_FIELD, min_size=5, max_size=7).map(" ".join))
def test_every_cron_expression_of_five_to_seven_fields_has_the_shape(cron: str) -> None:
    assert cron_shaped(cron)


@given(st.lists(_CRON_FIELD, min_size=1, max_size=10), st.sampled_from(["<", ">", '"', ";", "\n"]))
def test_a_wrong_field_count_or_a_foreign_character_is_refused(
    fields: list[str], foreign: str
) -> None:
    if not 5 <= len(fields) <= 7:
        assert not cron_shaped(" ".join(fields))
    assert not cron_shaped(" ".join([*fields[:-1], fields[-1] + foreign + "x"]))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "echo.main.nope"}, "endpoint"),
        ({"endpoint": "other.main.echo"}, "endpoint"),
        ({"inputs": "text"}, "inputs"),
        ({"inputs": [1]}, "inputs"),
        # Falsy ones too, as a workflow step's: one rule for inputs.
        ({"inputs": []}, "inputs"),
        ({"inputs": 0}, "inputs"),
    ],
)
async def test_a_schedule_that_could_never_run_is_422(
    http: httpx.AsyncClient, deployed: Manifest, change: dict[str, Any], field: str
) -> None:
    # Stored before, it failed on every tick, forever.
    target = {"agent_id": deployed["id"], "endpoint": "echo.main.echo", "interval_seconds": 60}
    made = await http.post("/scheduler/schedule/create", json={**target, **change})
    assert made.status_code == 422, made.text
    assert made.json()["detail"][0]["loc"] == ["body", field]
    good = await http.post("/scheduler/schedule/create", json={**target, "inputs": None})
    assert good.status_code == 201, good.text
    patched = await http.patch(f"/scheduler/schedule/{good.json()['id']}", json=change)
    assert patched.status_code == 422, patched.text
    [stored] = (await http.get("/scheduler/schedule/list")).json()["schedules"]
    assert (stored["endpoint"], stored["inputs"]) == ("echo.main.echo", None)


async def test_what_every_account_reads_of_a_publisher_is_bounded(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    # One account's 5 MB descriptions made every other account's listing pages huge.
    big = "x" * (_marketplace.MAX_PUBLIC_BYTES + 1)
    assert (await http.post(f"{MARKET}/publishers/profile", json={"bio": big})).status_code == 422
    assert (await http.post(f"{MARKET}/publishers/profile", json={})).status_code == 201
    # Fields added a little at a time count together.
    chunk = "y" * (_marketplace.MAX_PUBLIC_BYTES // 3)
    grown = [
        (await http.put(f"{MARKET}/publishers/profile", json={f"k{i}": chunk})).status_code
        for i in range(4)
    ]
    assert grown == [200, 200, 422, 422]
    listing = {"agent_id": deployed["id"], "category": "data"}
    too_big = await http.post(f"{MARKET}/listings", json={**listing, "description": big})
    assert (too_big.status_code, too_big.json()["detail"][0]["type"]) == (
        422,
        "value_error.too_large",
    )
    draft = (await http.post(f"{MARKET}/listings", json=listing)).json()
    route = f"{MARKET}/listings/{draft['id']}"
    assert (await http.post(f"{route}/publish", json={"notes": big})).status_code == 422
    assert (await http.get(route)).json()["status"] == "draft"
    team = {"agent_ids": [deployed["id"]], "name": big}
    assert (await http.post(f"{MARKET}/workforce/publish", json=team)).status_code == 422
    # Each member's manifest is copied: a repeated id multiplied the record.
    for ids in ([deployed["id"]] * 2, [deployed["id"]] * (_marketplace.MAX_WORKFORCE_AGENTS + 1)):
        repeated = await http.post(f"{MARKET}/workforce/publish", json={"agent_ids": ids})
        assert repeated.status_code == 422, repeated.text
        assert repeated.json()["detail"][0]["loc"] == ["body", "agent_ids"]
    assert (await http.get(f"{MARKET}/workforce/search")).json()["total"] == 0
    assert (await http.get(f"{MARKET}/listings/search")).json()["total"] == 0


async def test_a_workforce_carries_no_unbounded_workflow(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    # The workforce copies its workflow (names, step inputs: the publisher's writing)
    # into the record every account's search reads: it counts toward the same bound.
    assert (await http.post(f"{MARKET}/publishers/profile", json={})).status_code == 201
    step = {"agent_id": deployed["id"], "endpoint": "echo.main.echo"}
    big = {**step, "inputs": {"text": "x" * (_marketplace.MAX_PUBLIC_BYTES + 1)}}
    made = await http.post("/workflow/create", json={"name": "w", "steps": [big]})
    assert made.status_code == 201, made.text
    team = {"agent_ids": [deployed["id"]], "workflow_id": made.json()["id"]}
    refused = await http.post(f"{MARKET}/workforce/publish", json=team)
    assert (refused.status_code, refused.json()["detail"][0]["type"]) == (
        422,
        "value_error.too_large",
    )
    assert (await http.get(f"{MARKET}/workforce/search")).json()["total"] == 0
    small = await http.post("/workflow/create", json={"name": "w", "steps": [step]})
    team = {"agent_ids": [deployed["id"]], "workflow_id": small.json()["id"]}
    assert (await http.post(f"{MARKET}/workforce/publish", json=team)).status_code == 201


async def test_marketplace_publish_and_install(http: httpx.AsyncClient, deployed: Manifest) -> None:
    needs_profile = await http.post(f"{MARKET}/listings", json={"agent_id": deployed["id"]})
    assert needs_profile.status_code == 404
    assert (await http.get(f"{MARKET}/publishers/me")).status_code == 404
    profile = (await http.post(f"{MARKET}/publishers/profile", json={"display_name": "Me"})).json()
    assert (await http.post(f"{MARKET}/publishers/profile", json={})).status_code == 409
    assert (await http.put(f"{MARKET}/publishers/profile", json={"bio": "x"})).json()["bio"] == "x"
    assert (await http.get(f"{MARKET}/publishers/me")).json()["id"] == profile["id"]
    item = (
        await http.post(f"{MARKET}/listings", json={"agent_id": deployed["id"], "category": "data"})
    ).json()
    assert item["status"] == "draft"
    assert (await http.get(f"{MARKET}/listings/search", params={"q": "echo"})).json()["total"] == 0
    assert (await http.post(f"{MARKET}/listings/{item['id']}/install", json={})).status_code == 409
    published = (await http.post(f"{MARKET}/listings/{item['id']}/publish")).json()
    assert published["status"] == "published"
    assert (await http.post(f"{MARKET}/listings/{item['id']}/publish")).status_code == 409
    found = (
        await http.get(f"{MARKET}/listings/search", params={"q": "ECHO", "category": "data"})
    ).json()
    assert [i["id"] for i in found["listings"]] == [item["id"]]
    taken = await http.post(f"{MARKET}/listings/{item['id']}/install", json={})
    assert taken.json()["detail"]["code"] == "alias_taken"
    installed = (
        await http.post(f"{MARKET}/listings/{item['id']}/install", json={"alias": "copy"})
    ).json()
    assert installed["agent"]["agent_alias"] == "copy"
    assert "auth_methods" not in installed["agent"]
    assert (await http.get(f"{MARKET}/install")).json()["total"] == 1
    categories = (await http.get(f"{MARKET}/categories")).json()["categories"]
    assert "data" in [c["id"] for c in categories]
    mine = (await http.get(f"{MARKET}/listings", params={"mine": "true"})).json()
    assert mine["total"] == 1
    draft = (await http.post(f"{MARKET}/listings", json={"agent_id": deployed["id"]})).json()
    for params, expected in [
        ({}, [item["id"]]),
        ({"status": "published"}, [item["id"]]),
        ({"status": "draft"}, [draft["id"]]),
        ({"status": "draft", "mine": "true"}, [draft["id"]]),
        ({"mine": "true"}, [item["id"], draft["id"]]),
    ]:
        found = (await http.get(f"{MARKET}/listings", params=params)).json()["listings"]
        assert [i["id"] for i in found] == expected, params
    workforce = (
        await http.post(
            f"{MARKET}/workforce/publish", json={"name": "team", "agent_ids": [deployed["id"]]}
        )
    ).json()
    assert (await http.get(f"{MARKET}/workforce/search", params={"q": "team"})).json()["total"] == 1
    assert (await http.get(f"{MARKET}/workforce/{workforce['id']}")).json()["name"] == "team"
    team = (
        await http.post(
            f"{MARKET}/workforce/{workforce['id']}/install", json={"alias_suffix": "_2"}
        )
    ).json()
    assert len(team["agent_ids"]) == 1


async def test_timestamps_of_schedules_and_sessions_are_iso_8601(
    http: httpx.AsyncClient, deployed: Manifest, viksa_platform: LocalPlatform
) -> None:
    target = {
        "agent_id": deployed["id"],
        "endpoint": "echo.main.echo",
        "inputs": {"text": "t"},
        "interval_seconds": 60,
    }
    schedule = (await http.post("/scheduler/schedule/create", json=target)).json()
    created = seconds_of(schedule["created_at"])
    assert isinstance(schedule["next_run_at"], str)
    assert seconds_of(schedule["next_run_at"]) - created >= 59
    assert iso_at(seconds_of(schedule["next_run_at"])) == schedule["next_run_at"]
    paused = (await http.post(f"/scheduler/schedule/{schedule['id']}/pause")).json()
    assert paused["next_run_at"] is None
    resumed = (await http.post(f"/scheduler/schedule/{schedule['id']}/resume")).json()
    assert isinstance(resumed["next_run_at"], str)
    assert await viksa_platform.platform.tick(now=seconds_of(resumed["next_run_at"])) == 1
    ran = (await http.get(f"/scheduler/schedule/{schedule['id']}")).json()
    assert (ran["run_count"], isinstance(ran["next_run_at"], str)) == (1, True)
    creds = viksa_platform.credentials
    login = await http.post(
        "/auth/individual/login", json={"email": creds.email, "password": creds.password}
    )
    token = {"Authorization": f"Bearer {login.json()['access_token']}"}
    sessions = (await http.get("/auth/sessions", headers=token)).json()["sessions"]
    assert sessions
    for session in sessions:
        assert isinstance(session["expires_at"], str)
        assert seconds_of(session["expires_at"]) > seconds_of(session["created_at"])


async def test_a_schedule_stored_with_an_epoch_next_run_still_runs(
    http: httpx.AsyncClient, deployed: Manifest, viksa_platform: LocalPlatform
) -> None:
    target = {
        "agent_id": deployed["id"],
        "endpoint": "echo.main.echo",
        "inputs": {"text": "t"},
        "interval_seconds": 60,
    }
    schedule = (await http.post("/scheduler/schedule/create", json=target)).json()
    store = viksa_platform.platform.store
    stored = store.get("schedule", schedule["id"])
    assert stored is not None
    due = seconds_of(stored["next_run_at"])
    # As a data file of an earlier version holds it.
    store.save("schedule", {**stored, "next_run_at": due})
    assert await viksa_platform.platform.tick(now=due - 1) == 0
    assert await viksa_platform.platform.tick(now=due) == 1
    assert isinstance(
        (await http.get(f"/scheduler/schedule/{schedule['id']}")).json()["next_run_at"], str
    )


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_iso_timestamps_read_back_to_the_same_moment(seconds: float) -> None:
    stamp = iso_at(seconds)
    assert stamp.endswith("Z")
    assert abs(seconds_of(stamp) - seconds) < 1e-5


async def test_a_failed_workforce_install_never_undoes_another_requests_write(
    http: httpx.AsyncClient,
    deployed: Manifest,
    manifest: Callable[..., Manifest],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Installing a workforce checks each member's manifest (awaited: the validator runs
    # apart) and stores them all or none. A request served while a check is awaited
    # must keep what it was told was stored when the install then fails.
    other = (await http.post("/builder/agent/create", json=manifest("other"))).json()
    await http.post(f"{MARKET}/publishers/profile", json={"display_name": "Me"})
    team = {"name": "team", "agent_ids": [deployed["id"], other["id"]]}
    workforce = (await http.post(f"{MARKET}/workforce/publish", json=team)).json()
    # The second member's copy cannot be stored: its alias is taken.
    taken = await http.post("/builder/agent/create", json=manifest("other_2"))
    assert taken.status_code == 201, taken.text
    checking, release = asyncio.Event(), asyncio.Event()
    check = checked_agent

    async def paused_check(body: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if body["agent_alias"] == "other_2":
            checking.set()
            await release.wait()
        return await check(body, *args, **kwargs)

    monkeypatch.setattr(_marketplace, "checked_agent", paused_check)
    install = asyncio.ensure_future(
        http.post(f"{MARKET}/workforce/{workforce['id']}/install", json={"alias_suffix": "_2"})
    )
    await asyncio.wait_for(checking.wait(), timeout=30)
    stored = await http.post("/builder/secret/create", json={"name": "meanwhile", "value": "v"})
    assert stored.status_code == 201, stored.text
    release.set()
    failed = await install
    assert failed.status_code == 409, failed.text
    assert failed.json()["detail"]["code"] == "alias_taken"
    secrets = (await http.get("/builder/secret/list")).json()
    assert "meanwhile" in [s["name"] for s in secrets["secrets"]]
    aliases = [a["agent_alias"] for a in (await http.get("/builder/agent/list")).json()["agents"]]
    assert "echo_2" not in aliases  # all or nothing: the first member's copy went too


async def test_concurrent_installs_are_each_counted(
    http: httpx.AsyncClient, deployed: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    await http.post(f"{MARKET}/publishers/profile", json={"display_name": "Me"})
    item = (await http.post(f"{MARKET}/listings", json={"agent_id": deployed["id"]})).json()
    assert (await http.post(f"{MARKET}/listings/{item['id']}/publish")).status_code == 200
    # Both installs wait in the validator at once, as two requests served together do.
    both, release = asyncio.Semaphore(0), asyncio.Event()
    check = checked_agent

    async def paused_check(*args: Any, **kwargs: Any) -> Any:
        both.release()
        await release.wait()
        return await check(*args, **kwargs)

    monkeypatch.setattr(_marketplace, "checked_agent", paused_check)
    installs = [
        asyncio.ensure_future(
            http.post(f"{MARKET}/listings/{item['id']}/install", json={"alias": alias})
        )
        for alias in ("copy_a", "copy_b")
    ]
    for _ in installs:
        await asyncio.wait_for(both.acquire(), timeout=30)
    release.set()
    assert [(await i).status_code for i in installs] == [201, 201]
    assert (await http.get(f"{MARKET}/listings/{item['id']}")).json()["installs"] == 2


async def test_publishing_checks_the_category_and_shares_only_the_listed_agent(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    # Creating a listing refuses an unknown category; publishing it (or a workforce)
    # must too; a publish body cannot swap the agent the listing was made from, and
    # the agent is shared without the publisher's vault bindings.
    await http.post(f"{MARKET}/publishers/profile", json={"display_name": "Me"})
    item = (await http.post(f"{MARKET}/listings", json={"agent_id": deployed["id"]})).json()
    odd = await http.post(f"{MARKET}/listings/{item['id']}/publish", json={"category": "odd"})
    assert odd.status_code == 422, odd.text
    assert odd.json()["detail"][0]["loc"] == ["body", "category"]
    assert (await http.get(f"{MARKET}/listings/{item['id']}")).json()["status"] == "draft"
    swapped = {"category": "data", "manifest": {"agent_name": "other"}, "agent_alias": "other"}
    published = await http.post(f"{MARKET}/listings/{item['id']}/publish", json=swapped)
    assert published.status_code == 200, published.text
    kept = published.json()
    assert (kept["category"], kept["agent_alias"]) == ("data", "echo")
    assert kept["manifest"]["agent_name"] == deployed["agent_name"]
    team = {"agent_ids": [deployed["id"]], "category": "odd"}
    assert (await http.post(f"{MARKET}/workforce/publish", json=team)).status_code == 422
    workforce = await http.post(f"{MARKET}/workforce/publish", json={**team, "category": "data"})
    assert workforce.status_code == 201, workforce.text
    # What every account reads carries no vault binding of the publisher's.
    assert "auth_methods" in deployed
    assert "auth_methods" not in kept["manifest"]
    assert "auth_methods" not in workforce.json()["agents"][0]["manifest"]
