"""A hostile input pattern cannot stall the platform: costly searches leave the loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from viksa_ai.devtools import _validation_workers as workers
from viksa_ai.devtools.validate import _pattern_search as ps

Manifest = dict[str, Any]
LIMIT = 0.5


@pytest.fixture(autouse=True)
def quick_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ps, "PATTERN_TIME_LIMIT_SECONDS", LIMIT)


def _with_pattern(manifest: Callable[..., Manifest], alias: str, pattern: str) -> Manifest:
    inputs = [
        {"name": "text", "type": "string", "pattern": pattern},
        {"name": "seconds", "type": "float", "min_value": 0, "max_value": 30},
    ]
    return manifest(alias, inputs=inputs)


async def test_a_catastrophic_pattern_is_refused_in_time_and_the_platform_keeps_serving(
    http: httpx.AsyncClient,
    deploy: Callable[[Manifest], Awaitable[Manifest]],
    manifest: Callable[..., Manifest],
    execute: Callable[..., dict[str, Any]],
) -> None:
    agent = await deploy(_with_pattern(manifest, "hostile", r"^(a|aa)+$"))
    hostile = "a" * 5000 + "!"  # re alone would search this for longer than a lifetime
    events: list[str] = []

    async def call() -> httpx.Response:
        answer = await http.post(
            "/pulse/executor/execute", json=execute(agent, "echo", text=hostile)
        )
        events.append("answered")
        return answer

    async def health_checks() -> None:
        await asyncio.sleep(0.05)  # the search has started
        for _ in range(5):
            assert (await http.get("/_dev/health")).status_code == 200
        events.append("served")

    started = time.monotonic()
    answer, _ = await asyncio.gather(call(), health_checks())
    assert answer.status_code == 422, answer.text
    item = answer.json()["detail"][0]
    assert item["type"] == "value_error.VX410"
    assert item["loc"] == ["body", "inputs", "text"]
    assert "did not finish searching this value within 0.5 seconds" in item["msg"]
    assert hostile not in answer.text
    assert time.monotonic() - started < 30  # the limit, and a worker's start
    # The loop answered other requests while the search ran in the worker (an order,
    # not a timing: a blocked loop would answer them only after the search).
    assert events == ["served", "answered"]
    # Nothing ran and nothing was recorded.
    listed = await http.get("/pulse/executor/executions", params={"agent_id": agent["id"]})
    assert listed.status_code == 200
    assert listed.json()["total"] == 0
    # A short value is still checked on the spot.
    ok = await http.post("/pulse/executor/execute", json=execute(agent, "echo", text="aaa"))
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "completed"


async def test_a_costly_pattern_that_finishes_gives_the_answer_re_gives(
    http: httpx.AsyncClient,
    deploy: Callable[[Manifest], Awaitable[Manifest]],
    manifest: Callable[..., Manifest],
    execute: Callable[..., dict[str, Any]],
) -> None:
    # Quadratic when unanchored: searched in the worker at this length, well in time.
    agent = await deploy(_with_pattern(manifest, "letters", r"[a-z]+$"))
    matching = await http.post(
        "/pulse/executor/execute", json=execute(agent, "echo", text="a" * 3000)
    )
    assert matching.status_code == 200, matching.text
    assert matching.json()["status"] == "completed"
    failing = await http.post(
        "/pulse/executor/execute", json=execute(agent, "echo", text="a" * 3000 + "!")
    )
    assert failing.status_code == 422, failing.text
    assert failing.json()["detail"][0]["type"] == "value_error.VX408"


async def test_a_webhook_with_a_catastrophic_pattern_is_refused_in_time(
    http: httpx.AsyncClient,
    deploy: Callable[[Manifest], Awaitable[Manifest]],
    manifest: Callable[..., Manifest],
) -> None:
    agent = await deploy(_with_pattern(manifest, "hooked", r"^(a+)+$"))
    trigger = await http.post(
        "/chat/trigger",
        json={"agent_id": agent["id"], "endpoint": "hooked.main.echo", "name": "hook"},
    )
    assert trigger.status_code == 201, trigger.text
    created = trigger.json()
    answer = await http.post(
        f"/chat/webhook/trigger/{created['id']}",
        json={"text": "a" * 5000 + "!"},
        headers={"Authorization": f"Bearer {created['webhook_token']}"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["type"] == "value_error.VX410"


async def test_no_costly_search_runs_on_the_event_loop_also_in_background_runs(
    http: httpx.AsyncClient,
    deploy: Callable[[Manifest], Awaitable[Manifest]],
    manifest: Callable[..., Manifest],
    execute: Callable[..., dict[str, Any]],
    searched_in: list[threading.Thread],
) -> None:
    # A background run (invoke, webhook, schedule) checks its inputs again when it
    # starts: that check too must leave the loop for a costly search.
    loop_thread = threading.current_thread()
    agent = await deploy(_with_pattern(manifest, "background", r"[a-z]+$"))
    answer = await http.post("/pulse/executor/invoke", json=execute(agent, "echo", text="a" * 3000))
    assert answer.status_code == 202, answer.text
    record: dict[str, Any] = {}
    for _ in range(300):
        url = f"/pulse/executor/execution/{answer.json()['invocation_id']}"
        record = (await http.get(url)).json()
        if record["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert record["status"] == "completed", record
    assert len(searched_in) == 2  # the request's check and the run's
    assert loop_thread not in searched_in


_FLOOD_LIMIT = 2.0  # long enough that a flood is all in before its first searches end


@pytest.fixture
def searches_run_out(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every search sent to the worker runs out of time; the time limits they had."""
    monkeypatch.setattr(ps, "PATTERN_TIME_LIMIT_SECONDS", _FLOOD_LIMIT)
    given: list[float] = []

    def every_search_runs_out(pattern: str, value: str, time_limit: float) -> bool:
        given.append(time_limit)
        time.sleep(time_limit)
        raise ps.PatternTimeoutError(time_limit)

    monkeypatch.setattr(workers, "search_in_worker", every_search_runs_out)
    return given


async def test_behind_a_flood_of_costly_calls_a_call_waits_one_time_limit_at_most(
    http: httpx.AsyncClient,
    deploy: Callable[[Manifest], Awaitable[Manifest]],
    manifest: Callable[..., Manifest],
    execute: Callable[..., dict[str, Any]],
    searches_run_out: list[float],
) -> None:
    # Before: calls queued for the two searching threads one behind the other, so the
    # thirtieth of a flood of hostile calls waited 30 s on viksa dev, whoever sent it.
    agent = await deploy(_with_pattern(manifest, "flooded", r"^(a|aa)+$"))
    flood = 3 * workers.SEARCH_WORKERS + 2
    body = execute(agent, "echo", text="a" * 500 + "!")
    answers = await asyncio.gather(
        *(http.post("/pulse/executor/execute", json=body) for _ in range(flood))
    )
    assert [answer.status_code for answer in answers] == [422] * flood
    kinds = [answer.json()["detail"][0]["type"] for answer in answers]
    assert kinds == ["value_error.VX410"] * flood
    # The calls beyond the searching threads had only what their wait left of their one
    # limit (nothing, or about): none was searched for a limit of its own.
    late = sorted(searches_run_out)[: -workers.SEARCH_WORKERS]
    assert all(time_limit < _FLOOD_LIMIT / 2 for time_limit in late), searches_run_out
