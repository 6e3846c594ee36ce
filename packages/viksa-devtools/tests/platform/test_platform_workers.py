"""The warm workers behind pulse: how many stay up, and that none outlives the platform."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform, PlatformConfig
from viksa_ai.devtools.platform.services import _pools
from viksa_ai.devtools.platform.services._pools import Pool, WorkerPools
from viksa_ai.devtools.runner import RunResult, WorkerCrashedError, load_agent, prepare_call

MAIN = """
import asyncio
import os
from typing import Any, Dict

from viksa_ai.runtime import mcp_endpoint


@mcp_endpoint(description="The worker's process id")
async def pid(payload: Dict[str, Any]):
    return {"pid": os.getpid()}


@mcp_endpoint(description="Record the worker's process id in a file, then hang")
async def hang(payload: Dict[str, Any]):
    with open(payload["path"], "w") as file:
        file.write(str(os.getpid()))
    await asyncio.sleep(600)
"""


def _manifest(alias: str) -> dict[str, Any]:
    return {
        "agent_name": "Workers",
        "agent_alias": alias,
        "agent_description": "Reports and holds its worker",
        "files": [{"name": "main.py", "content": MAIN, "mime_type": "python"}],
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


async def _deploy(http: httpx.AsyncClient, alias: str) -> str:
    agent = (await http.post("/builder/agent/create", json=_manifest(alias))).json()
    for route in ("/builder/builder/", "/builder/deploy/"):
        assert (await http.post(route, json={"agent_id": agent["id"]})).status_code == 200
    return str(agent["id"])


async def _run(http: httpx.AsyncClient, agent_id: str, alias: str, **inputs: Any) -> Any:
    body = {
        "agent_id": agent_id,
        "agent_type": "cloud",
        "endpoint": f"{alias}.main.{'hang' if inputs else 'pid'}",
        "inputs": inputs,
    }
    answer = await http.post("/pulse/executor/execute", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True
    return state != "Z"


async def _gone(pid: int) -> bool:
    for _ in range(100):
        if not _alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


# These tests follow worker processes by the pid an agent reports and the files it
# writes: unsandboxed, where both mean what they say (the sandbox has its own tests).
@pytest.fixture
def viksa_platform_config() -> PlatformConfig:
    return PlatformConfig(sandbox=False)


@pytest.mark.parametrize("viksa_platform_config", [PlatformConfig(warm_agents=1, sandbox=False)])
async def test_only_the_most_recently_used_agents_stay_warm(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    first, second = await _deploy(http, "first"), await _deploy(http, "second")
    first_pid = (await _run(http, first, "first"))["response"]["pid"]
    assert (await _run(http, first, "first"))["response"]["pid"] == first_pid  # warm
    second_pid = (await _run(http, second, "second"))["response"]["pid"]
    assert await _gone(first_pid)
    again = (await _run(http, first, "first"))["response"]["pid"]
    assert again != first_pid
    assert await _gone(second_pid)


async def test_closing_the_platform_kills_busy_workers_too(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform, tmp_path: Path
) -> None:
    agent = await _deploy(http, "holder")
    marker = tmp_path / "busy.pid"
    running = asyncio.ensure_future(_run(http, agent, "holder", path=str(marker)))
    for _ in range(200):
        if marker.exists() and marker.read_text():
            break
        await asyncio.sleep(0.05)
    busy = int(marker.read_text())
    idle = (await _run(http, agent, "holder"))["response"]["pid"]  # the pool's second worker
    assert idle != busy
    await viksa_platform.aclose()
    answer = await asyncio.wait_for(running, 60)
    assert (answer["status"], answer["error_kind"]) == ("failed", "worker_crashed")
    assert await _gone(busy)
    assert await _gone(idle)


async def test_a_background_run_that_breaks_is_logged(
    http: httpx.AsyncClient,
    viksa_platform: LocalPlatform,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    agent = await _deploy(http, "broken")
    engine = viksa_platform.platform.engine

    async def broken(record: dict[str, Any], **_: Any) -> dict[str, Any]:
        raise RuntimeError("the store went away")

    monkeypatch.setattr(engine, "run", broken)
    body = {"agent_id": agent, "agent_type": "cloud", "endpoint": "broken.main.pid"}
    with caplog.at_level(logging.ERROR, logger="viksa_ai.devtools.platform"):
        assert (await http.post("/pulse/executor/invoke", json=body)).status_code == 202
        for _ in range(100):
            if caplog.records:
                break
            await asyncio.sleep(0.02)
    assert caplog.records[0].getMessage() == "a background run failed"
    assert "the store went away" in str(caplog.records[0].exc_info)


async def test_redeploys_do_not_pile_up_retired_pools() -> None:
    spawned: list[Any] = []
    pools = WorkerPools(workers_per_agent=1, max_agents=2, spawn=spawned.append, sandbox=False)
    for version in range(20):
        pool = pools.get("agt_1", f"v{version}", _manifest("w"))
        await pools.forget("agt_1")  # what every deploy, reconcile or delete does
        assert not pool.busy
    # Only the last one may linger until the next retirement: none of them has a worker.
    assert pools.retiring <= 1
    assert spawned == []
    await pools.aclose()
    assert pools.retiring == 0


async def test_a_call_waiting_for_a_worker_starts_none_once_the_pool_is_closed(
    tmp_path: Path,
) -> None:
    agent = load_agent(_manifest("w"))
    pool = Pool(agent, "v1", 1, sandbox=False)
    marker = tmp_path / "busy.pid"
    hang = prepare_call(agent, "hang", {"path": str(marker)})
    running = asyncio.ensure_future(pool.call(hang, {}, 600))
    for _ in range(200):
        if marker.exists() and marker.read_text():
            break
        await asyncio.sleep(0.05)
    busy = int(marker.read_text())
    waiting = asyncio.ensure_future(pool.call(prepare_call(agent, "pid", {}), {}, 600))
    await asyncio.sleep(0)  # it now waits for the only worker
    await pool.close()
    with pytest.raises(WorkerCrashedError):
        await running
    # Not run in a child started after the platform stopped.
    with pytest.raises(WorkerCrashedError, match="stopped before this call started"):
        await waiting
    assert not pool.busy
    assert await _gone(busy)


class _GatedWorker:
    """Stands in for a worker process so the test decides when each step happens."""

    made: ClassVar[list[_GatedWorker]] = []
    close_gate: ClassVar[asyncio.Event]

    def __init__(self, agent: object, **options: object) -> None:
        self.started = asyncio.Event()
        self.finish = asyncio.Event()
        self.closing = asyncio.Event()
        self.closed = False
        _GatedWorker.made.append(self)

    async def call_prepared(
        self,
        call: object,
        *,
        secrets: object,
        timeout: float,
        on_sent: Callable[[], None] | None = None,
    ) -> RunResult:
        if on_sent is not None:
            on_sent()
        self.started.set()
        await self.finish.wait()
        return RunResult(endpoint="w.main.pid", value={"closed": self.closed}, duration_ms=0)

    async def close(self) -> None:
        self.closing.set()
        if self is _GatedWorker.made[0]:
            await _GatedWorker.close_gate.wait()  # hold the first call's slot, worker gone
        self.closed = True
        self.finish.set()


async def test_a_call_waiting_for_a_worker_keeps_its_retired_pool_tracked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_pools, "AsyncAgentWorker", _GatedWorker)
    _GatedWorker.made = []
    _GatedWorker.close_gate = asyncio.Event()
    pools = WorkerPools(workers_per_agent=1, max_agents=2, spawn=lambda _: None, sandbox=False)
    old = pools.get("agt_1", "v1", _manifest("w"))
    call = prepare_call(old.agent, "pid", {})
    running = asyncio.ensure_future(old.call(call, {}, 60))
    await _wait_for(lambda: bool(_GatedWorker.made))
    first = _GatedWorker.made[0]
    await first.started.wait()
    queued = asyncio.ensure_future(old.call(call, {}, 60))
    await pools.forget("agt_1")  # a redeploy: ``old`` is retired while both calls last
    first.finish.set()
    await first.closing.wait()
    # The running call ended and its worker is going; the queued call has none yet.
    assert old.busy
    pools.get("agt_1", "v2", _manifest("w"))
    await pools.forget("agt_1")  # a second redeploy must not drop ``old``
    _GatedWorker.close_gate.set()
    await running
    await _wait_for(lambda: len(_GatedWorker.made) == 2)
    late = _GatedWorker.made[1]
    await late.started.wait()
    await pools.aclose()
    assert late.closed
    assert (await queued).value == {"closed": True}
    assert not old.busy


async def _wait_for(ready: Callable[[], bool]) -> None:
    for _ in range(1000):
        if ready():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def test_a_run_that_ignores_its_cancellation_does_not_hold_the_close(
    viksa_platform: LocalPlatform,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Whatever a background run's cancellation waits on, the platform's close (and so
    # `viksa dev`'s shutdown, or a test's teardown) ends: it waits a bounded time.
    from viksa_ai.devtools.platform.services import _engine

    monkeypatch.setattr(_engine, "_CLOSE_WAIT_SECONDS", 0.2)
    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            try:
                await released.wait()
            except asyncio.CancelledError:
                continue  # swallowed: only `released` ends it

    viksa_platform.platform.engine.spawn(stubborn())
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, logger="viksa_ai.devtools.platform"):
        await asyncio.wait_for(viksa_platform.aclose(), 30)
    assert "1 background runs did not end at the close" in caplog.text
    released.set()
