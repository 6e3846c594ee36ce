"""Request body cap and validation off the event loop with a time limit (issue 9, item 5)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from viksa_ai.devtools import cli
from viksa_ai.devtools.platform import PlatformConfig
from viksa_ai.devtools.platform._config import DEFAULT_MAX_BODY_BYTES
from viksa_ai.devtools.platform.services import _validation
from viksa_ai.devtools.validate._parse import MAX_SOURCE_CHARS, parse_source

Manifest = dict[str, Any]
CAP = 512 * 1024


def slow_to_compile(chars: int) -> str:
    """One function with thousands of names and of nested scopes: quadratic to compile."""
    names = "=".join(f"a{i}" for i in range(chars // 12))
    lambdas = ",".join("lambda:0" for _ in range(chars // 18))
    return f"\n\ndef f():\n    {names}=0\n    return ({lambdas},)\n"


@pytest.fixture
def viksa_platform_config() -> PlatformConfig:
    return PlatformConfig(max_body_bytes=CAP, validation_time_limit=1.0)


# -- the body cap -----------------------------------------------------------------------


def test_the_default_body_cap_is_10_mib() -> None:
    assert PlatformConfig().max_body_bytes == DEFAULT_MAX_BODY_BYTES == 10 * 1024 * 1024


async def test_a_body_over_the_cap_is_413_before_it_is_read(http: httpx.AsyncClient) -> None:
    big = json.dumps({"name": "x" * CAP}).encode()
    answer = await http.post(
        "/org/create", content=big, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413
    detail = answer.json()["detail"]
    assert detail["code"] == "body_too_large"
    assert "524,288 bytes" in detail["message"]
    assert "--max-body-mb" in detail["message"]
    assert "x-request-id" in answer.headers


async def test_a_streamed_body_is_cut_off_at_the_cap(http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(600):
            yield b"x" * 1024
        yield b'"}'

    for route in ("/org/create", "/pulse/executor/execute"):
        answer = await http.post(
            route,
            content=chunks(),
            headers={"content-type": "application/json", "Idempotency-Key": f"k-{route}"},
        )
        assert answer.status_code == 413, (route, answer.text)
        assert answer.json()["detail"]["code"] == "body_too_large"


async def test_a_body_under_the_cap_is_served(http: httpx.AsyncClient) -> None:
    answer = await http.post("/builder/secret/create", json={"name": "s", "value": "v" * 60_000})
    assert answer.status_code == 201


def test_viksa_dev_takes_the_body_cap_in_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[PlatformConfig] = []

    def fake_serve(config: PlatformConfig, **_: object) -> int:
        started.append(config)
        return 0

    monkeypatch.setattr("viksa_ai.devtools.platform.http._serve.serve", fake_serve)
    assert cli.main(["dev", "--memory", "--max-body-mb", "3"]) == 0
    assert cli.main(["dev", "--memory"]) == 0
    assert [c.max_body_bytes for c in started] == [3 * 1024 * 1024, 10 * 1024 * 1024]


# -- validation -------------------------------------------------------------------------


async def test_a_slow_validation_runs_off_the_loop_and_ends_in_422(
    http: httpx.AsyncClient, manifest: Callable[..., Manifest]
) -> None:
    body = manifest("slow")
    body["files"][0]["content"] += slow_to_compile(300_000)
    creating = asyncio.ensure_future(http.post("/builder/agent/create", json=body))
    await asyncio.sleep(0)  # the create request starts first
    health = await http.get("/_dev/health")
    # A cheap request is answered while the validation still runs in its worker.
    assert health.status_code == 200
    assert not creating.done()
    answer = await creating
    assert answer.status_code == 422, answer.text
    [item] = answer.json()["detail"]
    assert item["type"] == "value_error.validation_timeout"
    assert "did not finish within 1 seconds" in item["msg"]
    # The next validation gets a fresh worker.
    assert (await http.post("/builder/agent/create", json=manifest("fine"))).status_code == 201


def test_viksa_validate_has_the_same_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("viksa_ai.devtools._validation_workers.VALIDATION_TIME_LIMIT_SECONDS", 1.0)
    main = (
        'from ViksaAI import mcp_endpoint\n\n\n@mcp_endpoint(description="Echo")\n'
        "async def echo(payload):\n    return payload\n" + slow_to_compile(300_000)
    )
    agent = {
        "agent_name": "Slow",
        "agent_description": "Slow to compile",
        "files": [{"name": "main.py", "content": main, "mime_type": "python"}],
        "inputs": [],
        "outputs": [],
        "agent_endpoints": [{"name": "echo", "module": "main", "description": "Echo"}],
    }
    (tmp_path / "agent.json").write_text(json.dumps(agent), encoding="utf-8")
    assert cli.main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "did not finish within 1 seconds" in err


def test_main_py_is_capped_at_what_validates_in_about_a_second() -> None:
    # 4,000,000 characters used to be accepted: 341 s of compile for crafted code.
    assert MAX_SOURCE_CHARS == 1_600_000
    text = "x = 1\n" * (2_000_000 // 6)
    assert [i.code for i in parse_source(text).issues] == ["VX204"]


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/chat/conversations", "conversations"),
        ("/marketplace/api/v1/marketplace/listings", "listings"),
        ("/marketplace/api/v1/marketplace/listings/search", "listings"),
        ("/pulse/executor/executions", "executions"),
        ("/builder/agent/list", "agents"),
    ],
)
async def test_a_skip_past_any_sqlite_integer_is_an_empty_page(
    http: httpx.AsyncClient, path: str, key: str
) -> None:
    # skip has no upper bound on the wire; SQLite's OFFSET stops at 2**63 - 1 (it was 500).
    await http.post("/chat/message", json={"content": "one"})
    for skip in (2**63 - 1, 2**63, 10**30):
        answer = await http.get(path, params={"skip": skip})
        assert answer.status_code == 200, (skip, answer.text)
        assert (answer.json()[key], answer.json()["skip"]) == ([], skip)


async def test_a_search_longer_than_sqlites_like_patterns_is_answered(
    http: httpx.AsyncClient,
) -> None:
    # SQLite refuses LIKE patterns over 50,000 bytes; a search text may be longer (500).
    long = "word " * 12_000
    await http.post("/chat/message", json={"content": long + "end"})
    found = await http.post("/chat/search", json={"query": long.upper()})
    assert (found.status_code, found.json()["total"]) == (200, 1), found.text[:300]
    missed = await http.post("/chat/search", json={"query": long + "nope"})
    assert (missed.status_code, missed.json()["total"]) == (200, 0), missed.text[:300]


# -- per-call limits of agent code, as the platform records them ---------------------------

BOMB_MAIN = """
import os
import time
from typing import Any, Dict

from ViksaAI import mcp_endpoint


@mcp_endpoint(description="A fork bomb bounded at 2**8 processes, each sleeping")
async def bomb(payload: Dict[str, Any]):
    for _ in range(8):
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)
    time.sleep(60)
"""


async def test_a_fork_bomb_is_recorded_as_process_limit(
    http: httpx.AsyncClient, manifest: Callable[..., Manifest], execute: Callable[..., Manifest]
) -> None:
    # The platform's default limits (128 processes and threads) end the call; the record
    # says why, and the agent's next call is served by a new worker.
    files = [{"name": "main.py", "content": BOMB_MAIN, "mime_type": "python"}]
    endpoint = {"module": "main", "outputs": [], "inputs": [], "description": "bomb"}
    body = manifest(
        "bomb",
        files=files,
        agent_endpoints=[
            {**endpoint, "name": "bomb", "execution_config": {"timeout_seconds": 20}},
        ],
    )
    created = await http.post("/builder/agent/create", json=body)
    assert created.status_code == 201, created.text
    agent = created.json()
    for route in ("/builder/builder/", "/builder/deploy/"):
        assert (await http.post(route, json={"agent_id": agent["id"]})).status_code == 200
    answer = (await http.post("/pulse/executor/execute", json=execute(agent, "bomb"))).json()
    assert (answer["status"], answer["error_kind"]) == ("failed", "process_limit"), answer
    assert "Limits(processes=...)" in answer["error"]


async def test_a_flood_of_validations_leaves_threads_for_signing_in(
    http: httpx.AsyncClient,
    viksa_platform: Any,
    manifest: Callable[..., Manifest],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # More validations than anyio has thread tokens (40): each holds its thread until
    # released. Signing in (its password hash runs in a thread too) must not wait for them.
    release, started = threading.Event(), threading.Event()
    holding: list[int] = []

    def held_check(body: Manifest, *, time_limit: float | None = None) -> Any:
        holding.append(1)
        started.set()
        assert release.wait(30)
        from viksa_ai.devtools.validate import check_agent_manifest

        return check_agent_manifest(body)

    monkeypatch.setattr(_validation, "check_with_limits", held_check)
    creates = [
        asyncio.ensure_future(http.post("/builder/agent/create", json=manifest(f"flood{i}")))
        for i in range(45)
    ]
    try:
        assert await asyncio.to_thread(started.wait, 10)
        await asyncio.sleep(0.2)  # the rest of the flood reaches its validation
        credentials = viksa_platform.credentials
        login = {"email": credentials.email, "password": credentials.password}
        signed_in = await asyncio.wait_for(http.post("/auth/individual/login", json=login), 10)
        assert signed_in.status_code == 200, signed_in.text
        assert len(holding) <= 4  # the validations queued beyond their own few threads
    finally:
        release.set()
        answers = await asyncio.gather(*creates)
    assert all(answer.status_code == 201 for answer in answers)
