"""Pulse: executing deployed endpoints in warm workers, invoke, approvals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform

Manifest = dict[str, Any]
Execute = Callable[..., dict[str, Any]]


async def test_execute_runs_with_vault_secrets_and_the_envelope(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    body = {**execute(deployed, "echo", text="hi"), "envelope": {"run_id": "run-1"}}
    answer = await http.post("/pulse/executor/execute", json=body)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["status"] == "completed"
    assert result["endpoint"] == "echo.main.echo"
    assert result["response"] == {
        "text": "hi",
        "run_id": "run-1",
        "key": "s3cr3t",
        "enabled": ["svc"],
    }
    assert result["error"] is None
    assert isinstance(result["duration_ms"], int)
    assert result["execution_id"].startswith("exe_")
    assert "inputs" not in result


async def test_the_envelope_may_ride_inside_the_inputs(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    body = execute(deployed, "echo", text="x", __viksa_a2a__={"run_id": "inner"})
    result = (await http.post("/pulse/executor/execute", json=body)).json()
    assert result["response"]["run_id"] == "inner"


async def test_an_envelope_in_the_inputs_is_checked_like_the_bodys(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    inner = execute(deployed, "echo", text="x", __viksa_a2a__={"run_id": 1})
    answer = await http.post("/pulse/executor/execute", json=inner)
    assert answer.status_code == 422
    [item] = answer.json()["detail"]
    assert (item["loc"], item["type"]) == (["body", "inputs", "__viksa_a2a__"], "value_error.VX501")
    assert "'run_id'" in item["msg"]
    outer = {**execute(deployed, "echo", text="x"), "envelope": {"run_id": 1}}
    assert (await http.post("/pulse/executor/execute", json=outer)).status_code == 422


async def test_an_envelope_nested_too_deeply_to_copy_is_422(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    # Parsed by the platform, but deeper than the runtime's envelope copy recurses.
    body = json.dumps(execute(deployed, "echo", text="x", __viksa_a2a__={"run_id": "r"}))
    deep = body.replace('"run_id": "r"', '"run_id": "r", "x": ' + "[" * 800 + "]" * 800)
    headers = {"content-type": "application/json"}
    answer = await http.post("/pulse/executor/execute", content=deep, headers=headers)
    assert answer.status_code == 422, answer.text
    assert "too deeply" in answer.json()["detail"][0]["msg"]


async def test_bad_inputs_are_422_before_any_agent_code_runs(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    answer = await http.post("/pulse/executor/execute", json=execute(deployed, "echo", text=5))
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "inputs", "text"]
    missing = await http.post("/pulse/executor/execute", json={"agent_id": deployed["id"]})
    assert missing.status_code == 422


async def test_failures_timeouts_and_crashes_are_answered_and_the_platform_survives(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    failed = (await http.post("/pulse/executor/execute", json=execute(deployed, "fail"))).json()
    assert (failed["status"], failed["error_kind"]) == ("failed", "endpoint_error")
    assert "boom" in failed["error"]
    slow = execute(deployed, "slow", seconds=5)
    timed_out = (await http.post("/pulse/executor/execute", json=slow)).json()
    assert (timed_out["status"], timed_out["error_kind"]) == ("timeout", "timeout")
    crashed = (await http.post("/pulse/executor/execute", json=execute(deployed, "crash"))).json()
    assert (crashed["status"], crashed["error_kind"]) == ("failed", "worker_crashed")
    again = (
        await http.post("/pulse/executor/execute", json=execute(deployed, "echo", text="ok"))
    ).json()
    assert again["status"] == "completed"


async def test_an_execution_is_listed_as_running_while_its_agent_runs_then_once_as_ended(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    # The running record is written while the agent runs (after the call is sent):
    # still before anything can look, and never twice.
    # A warm worker first: starting one (sandboxed) on a loaded machine can take most of
    # the endpoint's 1 s timeout, and this test is about the listing, not the clock.
    warm = await http.post("/pulse/executor/execute", json=execute(deployed, "slow", seconds=0))
    assert warm.json()["status"] == "completed", warm.text
    listed = {"agent_id": deployed["id"]}

    async def listing() -> list[tuple[str, str]]:
        page = (await http.get("/pulse/executor/executions", params=listed)).json()
        found = [(e["execution_id"], e["status"]) for e in page["executions"]]
        return [item for item in found if item[0] != warm.json()["execution_id"]]

    running = asyncio.ensure_future(
        http.post("/pulse/executor/execute", json=execute(deployed, "slow", seconds=0.4))
    )
    for _ in range(500):  # up to 5 s
        seen = await listing()
        if seen:
            break
        await asyncio.sleep(0.01)
    [(execution_id, status)] = seen
    assert status == "running"
    final = (await running).json()
    assert (final["status"], final["execution_id"]) == ("completed", execution_id)
    assert await listing() == [(execution_id, "completed")]


async def test_a_run_that_ends_before_its_worker_has_it_is_recorded(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute, viksa_platform: LocalPlatform
) -> None:
    # The pool refuses it before any worker has the call (the platform is stopping):
    # the record is written with its end, not lost.
    pool = viksa_platform.platform.engine._pool(
        viksa_platform.platform.engine.target(
            deployed["project_id"], deployed["id"], "echo.main.echo"
        )
    )
    pool._closed = True
    body = execute(deployed, "echo", text="x")
    answer = await http.post("/pulse/executor/execute", json=body)
    pool._closed = False
    assert answer.status_code == 200, answer.text
    failed = answer.json()
    assert (failed["status"], failed["error_kind"]) == ("failed", "worker_crashed")
    kept = await http.get(f"/pulse/executor/execution/{failed['execution_id']}")
    assert kept.status_code == 200, kept.text
    assert kept.json()["status"] == "failed"


async def test_a_request_cannot_outlast_the_endpoints_timeout(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    body = {**execute(deployed, "slow", seconds=3), "timeout": 60}
    answer = (await http.post("/pulse/executor/execute", json=body)).json()
    assert answer["status"] == "timeout"
    assert "1 s" in answer["error"]
    zero = await http.post("/pulse/executor/execute", json={**body, "timeout": 0})
    assert zero.json()["detail"][0]["loc"] == ["body", "timeout"]


async def test_a_timeout_too_large_for_a_float_is_the_endpoints_timeout(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    # JSON integers have no bound; 10**400 has no float. It used to answer 500.
    body = {**execute(deployed, "slow", seconds=3), "timeout": 10**400}
    answer = await http.post("/pulse/executor/execute", json=body)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], "1 s" in answer.json()["error"]) == ("timeout", True)
    invoked = await http.post("/pulse/executor/invoke", json=body)
    assert invoked.status_code == 202, invoked.text
    stored = await http.get(f"/pulse/executor/execution/{invoked.json()['invocation_id']}")
    assert stored.status_code == 200, stored.text


async def test_runnability_rules(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute, manifest: Callable[..., Manifest]
) -> None:
    unknown = await http.post("/pulse/executor/execute", json=execute(deployed, "nope"))
    assert unknown.status_code == 404
    wrong_type = {**execute(deployed, "echo", text="x"), "agent_type": "secure", "task_queue": "q"}
    assert (await http.post("/pulse/executor/execute", json=wrong_type)).status_code == 422
    await http.patch(
        f"/builder/agent/{deployed['id']}/endpoint/echo/status", json={"status": "disabled"}
    )
    disabled = await http.post("/pulse/executor/execute", json=execute(deployed, "echo", text="x"))
    assert disabled.json()["detail"]["code"] == "endpoint_disabled"
    await http.patch(f"/builder/agent/{deployed['id']}/status", json={"status": "disabled"})
    off = await http.post("/pulse/executor/execute", json=execute(deployed, "fail"))
    assert off.json()["detail"]["code"] == "agent_disabled"
    fresh = (await http.post("/builder/agent/create", json=manifest("fresh"))).json()
    undeployed = await http.post("/pulse/executor/execute", json=execute(fresh, "echo", text="x"))
    assert (undeployed.status_code, undeployed.json()["detail"]["code"]) == (409, "not_deployed")
    missing = await http.post(
        "/pulse/executor/execute", json={**execute(fresh, "echo"), "agent_id": "agt_0"}
    )
    assert missing.status_code == 404


async def test_invoke_answers_at_once_and_the_execution_is_recorded(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    answer = await http.post("/pulse/executor/invoke", json=execute(deployed, "echo", text="bg"))
    assert answer.status_code == 202
    accepted = answer.json()
    assert (accepted["status"], accepted["endpoint"]) == ("accepted", "echo.main.echo")
    record: dict[str, Any] = {}
    for _ in range(200):
        record = (await http.get(f"/pulse/executor/execution/{accepted['invocation_id']}")).json()
        if record["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert record["status"] == "completed"
    assert record["response"]["text"] == "bg"


async def test_executing_an_endpoint_requiring_approval_answers_at_once(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    # Answered before any decision exists: the request never waits for a person.
    pending = await http.post(
        "/pulse/executor/execute", json=execute(deployed, "guarded", text="go")
    )
    assert pending.status_code == 202
    waiting = pending.json()
    assert (waiting["status"], waiting["response"]) == ("awaiting_approval", None)
    approvals = (await http.get("/chat/approvals", params={"status": "pending"})).json()[
        "approvals"
    ]
    assert [(a["id"], a["endpoint"]) for a in approvals] == [
        (waiting["approval_id"], "echo.main.guarded")
    ]
    decision = await http.post(
        f"/chat/approvals/{waiting['approval_id']}/decision", json={"decision": "approve"}
    )
    assert decision.json()["status"] == "approved"
    assert decision.json()["execution"]["status"] == "completed"
    result = (await http.get(f"/pulse/executor/execution/{waiting['execution_id']}")).json()
    assert (result["status"], result["response"]) == ("completed", {"approved_text": "go"})
    again = await http.post(
        f"/chat/approvals/{waiting['approval_id']}/decision", json={"approved": True}
    )
    assert again.json()["detail"]["code"] == "already_decided"


async def test_a_rejected_approval_ends_the_invocation(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    invoked = (
        await http.post("/pulse/executor/invoke", json=execute(deployed, "guarded", text="no"))
    ).json()
    assert invoked["status"] == "awaiting_approval"
    approvals = (await http.get("/chat/approvals")).json()["approvals"]
    approval = (await http.get(f"/chat/approvals/{approvals[0]['id']}")).json()
    assert approval["execution_id"] == invoked["invocation_id"]
    assert (
        await http.post(f"/chat/approvals/{approval['id']}/decision", json={"decision": "maybe"})
    ).status_code == 422
    rejected = (
        await http.post(
            f"/chat/approvals/{approval['id']}/decision",
            json={"decision": "reject", "comment": "not today"},
        )
    ).json()
    assert rejected["execution"]["status"] == "rejected"
    record = (await http.get(f"/pulse/executor/execution/{invoked['invocation_id']}")).json()
    assert (record["status"], record["error"]) == (
        "rejected",
        "Rejected by the approver: not today",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "reject", "approved": True},
        {"decision": "maybe", "approved": True},
        {"decision": "approve", "approved": "yes"},
        {"approved": 1},
        {},
    ],
)
async def test_a_decision_that_does_not_say_one_thing_is_422_and_nothing_runs(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute, body: dict[str, Any]
) -> None:
    # "reject" with approved true ran the guarded step: the gate read it as an approval.
    invoked = (
        await http.post("/pulse/executor/invoke", json=execute(deployed, "guarded", text="no"))
    ).json()
    [approval] = (await http.get("/chat/approvals")).json()["approvals"]
    refused = await http.post(f"/chat/approvals/{approval['id']}/decision", json=body)
    assert refused.status_code == 422, refused.text
    record = (await http.get(f"/pulse/executor/execution/{invoked['invocation_id']}")).json()
    assert record["status"] == "awaiting_approval"
    # A null field is an absent one.
    agreed = {"decision": "reject", "approved": None}
    decided = await http.post(f"/chat/approvals/{approval['id']}/decision", json=agreed)
    assert decided.json()["execution"]["status"] == "rejected"


NON_FINITE_MAIN = """
from ViksaAI import mcp_endpoint


@mcp_endpoint(description="Answer numbers JSON has no spelling for")
async def echo(payload):
    return {"text": payload.get("text"), "nan": float("nan"), "inf": [float("inf"), -1e999]}
"""


async def test_a_non_finite_result_is_answered_as_null(
    http: httpx.AsyncClient, manifest: Callable[..., Manifest], execute: Execute
) -> None:
    body = manifest("odd")
    body["files"][0]["content"] = NON_FINITE_MAIN
    body["agent_endpoints"] = body["agent_endpoints"][:1]
    body["inputs"] = body["inputs"][:1]
    agent = (await http.post("/builder/agent/create", json=body)).json()
    for route in ("/builder/builder/", "/builder/deploy/"):
        assert (await http.post(route, json={"agent_id": agent["id"]})).status_code == 200
    answer = await http.post("/pulse/executor/execute", json=execute(agent, "echo", text="t"))
    # Strict JSON (the same text `viksa run` prints: test_cli_run.py checks it too).
    result = json.loads(answer.text, parse_constant=_refuse)
    assert result["response"] == {"text": "t", "nan": None, "inf": [None, None]}


def _refuse(constant: str) -> None:
    raise AssertionError(f"the answer is not strict JSON: it holds {constant}")


async def test_running_another_accounts_agent_is_403_as_on_every_route(
    http: httpx.AsyncClient,
    viksa_platform: LocalPlatform,
    deployed: Manifest,
    execute: Execute,
) -> None:
    viksa_platform.platform.accounts.create_user("eve@example.com", "pw-eve-123")
    login = {"email": "eve@example.com", "password": "pw-eve-123"}
    tokens = (await http.post("/auth/individual/login", json=login)).json()
    eve = {"Authorization": f"Bearer {tokens['access_token']}"}
    shown = await http.get(f"/builder/agent/{deployed['id']}", headers=eve)
    body = execute(deployed, "echo", text="x")
    executed = await http.post("/pulse/executor/execute", json=body, headers=eve)
    invoked = await http.post("/pulse/executor/invoke", json=body, headers=eve)
    assert shown.status_code == executed.status_code == invoked.status_code == 403
    missing = {**body, "agent_id": "agt_missing"}
    assert (await http.post("/pulse/executor/execute", json=missing)).status_code == 404
