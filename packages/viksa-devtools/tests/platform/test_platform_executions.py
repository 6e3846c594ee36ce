"""The execution list route: a project's executions, filtered, newest first; live notices."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, get_args

import httpx
import pytest

from viksa_ai.client import ViksaClient, ViksaSyncClient, ViksaValidationError
from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform.http._routes.pulse import ExecutionStatus
from viksa_ai.devtools.platform.services._engine import EXECUTION_STATUSES
from viksa_ai.devtools.platform.services._pools import Pool
from viksa_ai.devtools.runner import WorkerCrashedError
from viksa_ai.models.answers import ExecutionStatus as ClientExecutionStatus

Manifest = dict[str, Any]
Execute = Callable[..., dict[str, Any]]
_LIST = "/pulse/executor/executions"


async def _three_runs(http: httpx.AsyncClient, deployed: Manifest, execute: Execute) -> list[str]:
    """The ids of three executions, oldest first: echo, a failure, echo."""
    ids = []
    for endpoint, inputs in (("echo", {"text": "a"}), ("fail", {}), ("echo", {"text": "b"})):
        answer = await http.post(
            "/pulse/executor/execute", json=execute(deployed, endpoint, **inputs)
        )
        ids.append(answer.json()["execution_id"])
    return ids


async def test_executions_are_listed_newest_first_with_filters(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    ids = await _three_runs(http, deployed, execute)
    listed = (await http.get(_LIST)).json()
    assert [e["execution_id"] for e in listed["executions"]] == ids[::-1]
    assert (listed["total"], listed["skip"], listed["limit"]) == (3, 0, 50)
    assert "inputs" not in listed["executions"][0]
    failed = (await http.get(_LIST, params={"status": "failed"})).json()
    assert [e["execution_id"] for e in failed["executions"]] == [ids[1]]
    mine = (await http.get(_LIST, params={"agent_id": deployed["id"], "limit": 1})).json()
    assert ([e["execution_id"] for e in mine["executions"]], mine["total"]) == ([ids[2]], 3)
    other = (await http.get(_LIST, params={"agent_id": "agt_other"})).json()
    assert other["executions"] == []


async def test_executions_are_filtered_by_creation_time(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    first = (
        await http.post("/pulse/executor/execute", json=execute(deployed, "echo", text="x"))
    ).json()
    stored = (await http.get(f"/pulse/executor/execution/{first['execution_id']}")).json()
    created = stored["created_at"]
    assert (await http.get(_LIST, params={"since": created})).json()["total"] == 1
    assert (await http.get(_LIST, params={"until": created})).json()["total"] == 1
    later = "2999-01-01T00:00:00Z"
    assert (await http.get(_LIST, params={"since": later})).json()["executions"] == []
    assert (await http.get(_LIST, params={"until": "2000-01-01T00:00:00"})).json()["total"] == 0


async def test_a_bad_filter_is_422(http: httpx.AsyncClient) -> None:
    for params in ({"status": "sleeping"}, {"since": "yesterday"}, {"limit": 0}):
        answer = await http.get(_LIST, params=params)
        assert answer.status_code == 422, params
        assert "input" not in answer.json()["detail"][0]


def test_the_status_filter_names_every_status() -> None:
    assert set(get_args(ExecutionStatus)) == set(EXECUTION_STATUSES)
    # The client's filter type names the same states as the route.
    assert set(get_args(ClientExecutionStatus)) == set(EXECUTION_STATUSES)


async def test_the_client_lists_and_walks_executions(
    viksa_client: ViksaClient, http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    ids = await _three_runs(http, deployed, execute)
    page = await viksa_client.pulse.list_executions(limit=2)
    assert [e["execution_id"] for e in page["executions"]] == ids[:0:-1]
    assert page.get("total") == 3
    failed = await viksa_client.pulse.list_executions(agent_id=deployed["id"], status="failed")
    assert [(e["execution_id"], e["status"]) for e in failed["executions"]] == [(ids[1], "failed")]
    assert failed["executions"][0].get("traceback")
    walked = [e["execution_id"] async for e in viksa_client.pulse.iter_executions(limit=2)]
    assert walked == ids[::-1]
    created = datetime.fromisoformat(page["executions"][-1]["created_at"].replace("Z", "+00:00"))
    since = [e["execution_id"] async for e in viksa_client.pulse.iter_executions(since=created)]
    assert since == [ids[2], ids[1]]
    later = datetime(2999, 1, 1, tzinfo=timezone.utc)
    assert (await viksa_client.pulse.list_executions(since=later))["executions"] == []
    assert (await viksa_client.pulse.list_executions(until="2000-01-01T00:00:00"))["total"] == 0


async def test_each_change_of_an_execution_is_announced(
    viksa_platform: LocalPlatform, http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    with viksa_platform.platform.engine.events.subscribe() as notices:
        answer = await http.post(
            "/pulse/executor/execute", json=execute(deployed, "echo", text="x")
        )
        execution_id = answer.json()["execution_id"]
        seen = [await asyncio.wait_for(notices.get(), 30) for _ in range(2)]
    assert [(n["execution_id"], n["status"]) for n in seen] == [
        (execution_id, "running"),
        (execution_id, "completed"),
    ]
    assert seen[0]["project_id"] == viksa_platform.credentials.project_id
    assert viksa_platform.platform.engine.events.subscribers == 0


async def test_an_execute_is_listed_running_while_its_agent_runs(
    http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    # Its record is written while the call runs, not before it starts: it must be there
    # while the agent runs, cold worker or warm.
    for _ in range(2):
        running = asyncio.ensure_future(
            http.post("/pulse/executor/execute", json=execute(deployed, "slow", seconds=0.4))
        )
        listed: dict[str, Any] = {"executions": []}
        for _ in range(200):
            await asyncio.sleep(0.01)
            listed = (await http.get(_LIST, params={"status": "running"})).json()
            if listed["executions"] or running.done():
                break
        done = (await running).json()
        assert done["status"] == "completed", done
        assert [e["execution_id"] for e in listed["executions"]] == [done["execution_id"]]
    everything = (await http.get(_LIST)).json()
    assert everything["total"] == 2
    assert {e["status"] for e in everything["executions"]} == {"completed"}


async def test_a_run_that_fails_before_its_call_is_sent_is_stored_once(
    viksa_platform: LocalPlatform,
    http: httpx.AsyncClient,
    deployed: Manifest,
    execute: Execute,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = viksa_platform.platform.engine
    warm = await http.post("/pulse/executor/execute", json=execute(deployed, "echo", text="w"))
    assert warm.json()["status"] == "completed"

    async def refused(*args: Any, **kwargs: Any) -> Any:
        raise WorkerCrashedError("the worker is gone", returncode=None, endpoint="echo")

    with viksa_platform.platform.engine.events.subscribe() as notices:
        monkeypatch.setattr(Pool, "call", refused)
        answer = await http.post(
            "/pulse/executor/execute", json=execute(deployed, "echo", text="x")
        )
        seen = [await asyncio.wait_for(notices.get(), 30)]
    assert (answer.json()["status"], answer.json()["error_kind"]) == ("failed", "worker_crashed")
    assert [(n["execution_id"], n["status"]) for n in seen] == [
        (answer.json()["execution_id"], "failed")
    ]
    stored = (await http.get(_LIST, params={"status": "failed"})).json()
    assert [e["execution_id"] for e in stored["executions"]] == [answer.json()["execution_id"]]

    async def store_broken(*args: Any, on_sent: Any = None, **kwargs: Any) -> Any:
        on_sent()
        raise RuntimeError("disk gone")

    monkeypatch.setattr(Pool, "call", store_broken)
    with pytest.raises(RuntimeError, match="disk gone"):
        await http.post("/pulse/executor/execute", json=execute(deployed, "echo", text="y"))
    # Nothing of that run is left waiting to be written.
    assert not engine._unrecorded


# -- the client's filters and paging edges (review 3) -------------------------------------------


def _created(record: Any) -> datetime:
    return datetime.fromisoformat(str(record["created_at"]).replace("Z", "+00:00"))


async def test_the_clients_time_filters_name_one_instant_however_it_is_written(
    viksa_client: ViksaClient, http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    ids = await _three_runs(http, deployed, execute)
    middle = _created((await http.get(f"/pulse/executor/execution/{ids[1]}")).json())
    india = timezone(timedelta(hours=5, minutes=30))
    spellings: dict[str, datetime | str] = {
        "aware UTC": middle,
        "aware +05:30": middle.astimezone(india),
        "naive (read as UTC)": middle.replace(tzinfo=None),
        "ISO text with Z": middle.isoformat().replace("+00:00", "Z"),
        "ISO text with an offset": middle.astimezone(india).isoformat(),
    }
    for how, moment in spellings.items():
        page = await viksa_client.pulse.list_executions(since=moment, until=moment)
        assert [e["execution_id"] for e in page["executions"]] == [ids[1]], how
        walked = [e["execution_id"] async for e in viksa_client.pulse.iter_executions(since=moment)]
        assert walked == [ids[2], ids[1]], how
    for garbage in ("yesterday", "2026-13-01T00:00:00", ""):
        with pytest.raises(ViksaValidationError) as raised:
            await viksa_client.pulse.list_executions(since=garbage)
        assert raised.value.status_code == 422, garbage
    assert (
        await viksa_client.pulse.list_executions(since=middle, until=middle - timedelta(seconds=1))
    )["total"] == 0


async def test_the_clients_status_filter_and_paging_edges(
    viksa_client: ViksaClient, http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    ids = await _three_runs(http, deployed, execute)
    for status in get_args(ClientExecutionStatus):
        page = await viksa_client.pulse.list_executions(status=status)
        expected = {"completed": [ids[2], ids[0]], "failed": [ids[1]]}.get(status, [])
        assert [e["execution_id"] for e in page["executions"]] == expected, status
    with pytest.raises(ViksaValidationError):
        await viksa_client.pulse.list_executions(status="finished")  # type: ignore[arg-type]
    one_by_one = [e["execution_id"] async for e in viksa_client.pulse.iter_executions(limit=1)]
    assert one_by_one == ids[::-1]
    past = await viksa_client.pulse.list_executions(skip=3, limit=1000)
    assert (past["executions"], past.get("total")) == ([], 3)
    for limit in (0, 1001):
        with pytest.raises(ViksaValidationError):
            await viksa_client.pulse.list_executions(limit=limit)
    with pytest.raises(ValueError, match="limit must be at least 1"):
        [e async for e in viksa_client.pulse.iter_executions(limit=0)]


def test_the_sync_client_lists_and_walks_executions(
    viksa_sync_client: ViksaSyncClient, manifest: Callable[..., Manifest]
) -> None:
    client = viksa_sync_client
    agent = client.builder.agents.create(manifest())
    client.builder.deploy.build(agent["id"])
    client.builder.deploy.deploy(agent["id"])
    ran = [
        client.pulse.execute(
            {
                "agent_id": agent["id"],
                "agent_type": "cloud",
                "endpoint": "echo.main.fail",
                "inputs": {},
            }
        ).execution_id
        for _ in range(3)
    ]
    assert [
        e["execution_id"] for e in client.pulse.iter_executions(limit=2, status="failed")
    ] == ran[::-1]
    first = client.pulse.list_executions(limit=1, agent_id=agent["id"])
    assert (first["executions"][0]["execution_id"], first.get("total")) == (ran[2], 3)
    moment = _created(first["executions"][0])
    assert client.pulse.list_executions(since=moment)["total"] == 1
    assert client.pulse.list_executions(until=moment.replace(tzinfo=None))["total"] == 3
    with pytest.raises(ViksaValidationError):
        client.pulse.list_executions(until="not a time")


async def test_executes_beyond_the_pool_are_each_stored_and_announced_once_in_order(
    viksa_platform: LocalPlatform, http: httpx.AsyncClient, deployed: Manifest, execute: Execute
) -> None:
    # More executes at once than the pool has workers (two): those waiting for a worker,
    # those starting one and those handed to a warm one each get one record, announced
    # running then completed, exactly once each (review 26).
    with viksa_platform.platform.engine.events.subscribe() as notices:
        answers = await asyncio.gather(
            *(
                http.post("/pulse/executor/execute", json=execute(deployed, "slow", seconds=0.05))
                for _ in range(5)
            )
        )
        seen = [await asyncio.wait_for(notices.get(), 30) for _ in range(10)]
    ids = [answer.json()["execution_id"] for answer in answers]
    assert {answer.json()["status"] for answer in answers} == {"completed"}
    for execution_id in ids:
        statuses = [n["status"] for n in seen if n["execution_id"] == execution_id]
        assert statuses == ["running", "completed"], (execution_id, statuses)
    listed = (await http.get(_LIST)).json()
    assert listed["total"] == 5
    assert sorted(e["execution_id"] for e in listed["executions"]) == sorted(ids)
    assert not viksa_platform.platform.engine._unrecorded
