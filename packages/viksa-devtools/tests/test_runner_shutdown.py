"""Closing a worker while calls still run, wait for it, or start its child."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools._loop_thread import LoopThread
from viksa_ai.devtools.runner import AgentWorker, AsyncAgentWorker, WorkerCrashedError
from viksa_ai.devtools.runner._reap import kill_tree

PROBE = Path(__file__).parent / "fixtures" / "runner_probe"
# Only a bound for a hang (the calls end at once): no speed is measured.
_HANG_BOUND_SECONDS = 60.0


def _loop_threads() -> int:
    return sum(thread.name == "viksa-agent-worker" for thread in threading.enumerate())


def test_a_call_still_pending_at_stop_ends_instead_of_blocking_its_thread() -> None:
    # A call that outlives the worker's close (here one that never ends by itself) is
    # cancelled after the grace; the loop is not stopped under it.
    portal = LoopThread(
        "viksa-agent-worker", close_grace=0.01, closed_error=lambda: RuntimeError("closed")
    )
    entered = threading.Event()
    outcome: list[BaseException | None] = []

    async def never_ends() -> None:
        entered.set()
        await asyncio.Event().wait()

    def caller() -> None:
        try:
            portal.run(never_ends())
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=caller, daemon=True)
    thread.start()
    assert entered.wait(_HANG_BOUND_SECONDS)
    portal.stop()
    thread.join(_HANG_BOUND_SECONDS)
    assert not thread.is_alive(), "the caller's thread was left blocked on a stopped loop"
    assert len(outcome) == 1
    assert isinstance(outcome[0], CancelledError)


def test_close_from_another_thread_ends_the_running_and_the_queued_calls() -> None:
    warm = AgentWorker(PROBE)
    warm.start()
    running = threading.Event()
    outcomes: list[BaseException | None] = []
    lock = threading.Lock()

    def caller() -> None:
        running.set()
        try:
            warm.call("nap", {"seconds": 30}, timeout=60)
            outcome: BaseException | None = None
        except BaseException as exc:
            outcome = exc
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=caller, daemon=True) for _ in range(12)]
    for thread in threads:
        thread.start()
    assert running.wait(_HANG_BOUND_SECONDS)
    warm.close()
    for thread in threads:
        thread.join(_HANG_BOUND_SECONDS)
    assert not any(thread.is_alive() for thread in threads)
    assert len(outcomes) == 12
    # Each call either had started (its child is killed) or finds the worker closed.
    for outcome in outcomes:
        assert isinstance(outcome, (WorkerCrashedError, RuntimeError)), outcome
        if not isinstance(outcome, WorkerCrashedError):
            assert "closed" in str(outcome)


async def test_a_close_between_a_calls_write_and_its_read_ends_the_call_as_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The close's clean-up reads what is left in the child's pipe; a call that reached its
    # read only after that got asyncio's "readexactly() called while another coroutine
    # is already waiting" RuntimeError instead of WorkerCrashedError.
    written, release = asyncio.Event(), asyncio.Event()
    real_drain = asyncio.StreamWriter.drain

    async def gated_drain(self: asyncio.StreamWriter) -> None:
        await real_drain(self)
        written.set()
        await release.wait()

    worker = AsyncAgentWorker(PROBE)
    await worker.start()
    monkeypatch.setattr(asyncio.StreamWriter, "drain", gated_drain)
    call = asyncio.ensure_future(worker.call("echo"))
    await asyncio.wait_for(written.wait(), _HANG_BOUND_SECONDS)
    closing = asyncio.ensure_future(worker.close())
    await asyncio.sleep(0)  # the close kills the child and starts reading its pipe
    release.set()
    with pytest.raises(WorkerCrashedError):
        await asyncio.wait_for(call, _HANG_BOUND_SECONDS)
    await asyncio.wait_for(closing, _HANG_BOUND_SECONDS)


def test_calls_on_a_closed_worker_start_no_loop_thread_and_close_is_repeatable() -> None:
    warm = AgentWorker(PROBE)
    warm.call("echo")
    warm.close()
    before = _loop_threads()
    for _ in range(3):
        with pytest.raises(RuntimeError, match="closed"):
            warm.call("echo")
    assert _loop_threads() == before
    warm.close()
    assert _loop_threads() == before


@pytest.mark.parametrize("close_at", ["before the spawn", "after the spawn"])
async def test_a_close_while_the_child_is_spawned_ends_the_call_and_the_child(
    monkeypatch: pytest.MonkeyPatch, close_at: str
) -> None:
    spawn = asyncio.create_subprocess_exec
    spawning, resume = asyncio.Event(), asyncio.Event()
    spawned: list[asyncio.subprocess.Process] = []

    async def gated_spawn(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        if close_at == "before the spawn":
            spawning.set()
            await resume.wait()
        process = await spawn(*args, **kwargs)
        spawned.append(process)
        if close_at == "after the spawn":
            spawning.set()
            await resume.wait()
        return process

    monkeypatch.setattr(asyncio, "create_subprocess_exec", gated_spawn)
    warm = AsyncAgentWorker(PROBE)
    call = asyncio.ensure_future(warm.call("echo"))
    await spawning.wait()
    await warm.close()
    resume.set()
    # Not the OSError of a spawn in a removed directory, nor a child left running.
    with pytest.raises(WorkerCrashedError, match="closed while its process started"):
        await call
    assert warm.pid is None
    for process in spawned:
        assert process.returncode is not None


async def test_a_cancelled_close_still_stops_the_child_and_removes_its_directory() -> None:
    warm = AsyncAgentWorker(PROBE)
    await warm.call("echo")
    assert warm._workdir is not None
    workdir = warm._workdir.root
    assert workdir.exists()
    closing = asyncio.ensure_future(warm.close())
    await asyncio.sleep(0)  # the close now waits for the idle child to leave
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    # A second close returns at once, so the first one must not have left these behind.
    await warm.close()
    assert not workdir.exists()
    assert warm.pid is None
    assert warm._process is None


async def test_a_close_cancelled_again_and_again_still_removes_its_directory() -> None:
    # anyio (the MCP bridge reloading a folder) cancels a task again at each await until
    # it leaves its cancelled scope: the clean-up in close's `finally` must still end.
    warm = AsyncAgentWorker(PROBE)
    await warm.call("echo")
    assert warm._workdir is not None
    workdir = warm._workdir.root
    closing = asyncio.ensure_future(warm.close())
    await asyncio.sleep(0)
    while not closing.done():
        closing.cancel()
        await asyncio.sleep(0)
    with pytest.raises(asyncio.CancelledError):
        await closing
    await warm.close()  # returns at once: the first close must have left nothing behind
    assert not workdir.exists()
    assert warm.pid is None


async def test_a_busy_close_cancelled_once_ends_its_clean_up_and_stays_cancelled() -> None:
    # Busy, the close goes straight to killing the child: a cancel arriving then must
    # neither cut that clean-up short nor be lost (the close would return as if done).
    warm = AsyncAgentWorker(PROBE)
    await warm.start()
    assert warm._workdir is not None
    workdir = warm._workdir.root
    call = asyncio.ensure_future(warm.call("nap", {"seconds": 5}, timeout=10))
    await asyncio.sleep(0.2)
    closing = asyncio.ensure_future(warm.close())
    await asyncio.sleep(0)  # the close now waits for the killed child to be reaped
    assert not closing.done()
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert not workdir.exists()
    assert warm.pid is None
    with pytest.raises(WorkerCrashedError):
        await call


async def test_a_close_never_hangs_on_a_child_that_outlives_its_kill(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A process that no kill reaches (here: the kill does nothing) must not hold the close
    # (nor the platform's shutdown, nor a test's teardown) for good: it is killed again,
    # then its pipes are let go.
    from viksa_ai.devtools.runner import _worker

    kills: list[int] = []
    monkeypatch.setattr(_worker, "_kill_tree", lambda process, tasks: kills.append(process.pid))
    monkeypatch.setattr(_worker, "_REAP_RETRY_SECONDS", 0.2)
    monkeypatch.setattr(_worker, "_REAP_GIVE_UP_SECONDS", 0.7)
    warm = AsyncAgentWorker(PROBE)
    await warm.call("echo")
    pid = warm.pid
    assert pid is not None
    call = asyncio.ensure_future(warm.call("nap", {"seconds": 30}, timeout=60))
    await asyncio.sleep(0.3)  # the call is running: the close kills rather than asks
    try:
        await asyncio.wait_for(warm.close(), _HANG_BOUND_SECONDS)
        with pytest.raises(WorkerCrashedError):
            await call
        assert warm.pid is None
        assert len(kills) >= 2  # killed at the close, and again while it lingered
    finally:
        # The whole tree: a sandbox's init runs in a session of its own.
        kill_tree(pid)


async def test_a_call_cancelled_while_its_child_is_spawned_stops_the_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # asyncio's own clean-up of a cancelled spawn kills only the process it started and
    # can leave a pipe open; the worker lets the spawn end, then stops the child itself.
    spawn = asyncio.create_subprocess_exec
    spawning, resume = asyncio.Event(), asyncio.Event()
    spawned: list[asyncio.subprocess.Process] = []

    async def gated_spawn(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        process = await spawn(*args, **kwargs)
        spawned.append(process)
        spawning.set()
        await resume.wait()
        return process

    monkeypatch.setattr(asyncio, "create_subprocess_exec", gated_spawn)
    warm = AsyncAgentWorker(PROBE)
    try:
        call = asyncio.ensure_future(warm.call("echo"))
        await spawning.wait()
        call.cancel()
        await asyncio.sleep(0.05)
        assert not call.done()  # the cancel waits for the spawn: no child is left behind
        resume.set()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(call, _HANG_BOUND_SECONDS)
        assert [process.returncode is not None for process in spawned] == [True]
        assert warm.pid is None
        monkeypatch.undo()
        assert (await warm.call("echo")).endpoint == "echo"  # the next call starts afresh
    finally:
        await warm.close()


@pytest.mark.parametrize("sandbox", [False, True], ids=["unsandboxed", "sandboxed"])
async def test_a_cancel_while_asyncio_connects_the_childs_pipes_ends_at_once(
    monkeypatch: pytest.MonkeyPatch, sandbox: bool
) -> None:
    # The window asyncio's own clean-up gets wrong: the child runs, its stdin pipe is not
    # connected yet. That clean-up killed only the process it started (unsandboxed: the
    # shim, whose child, the worker, lived on), then waited for a stdout that worker held
    # open while it waited for a stdin nobody would ever close: the cancel never ended.
    loop = asyncio.get_running_loop()
    connect = loop.connect_write_pipe
    connecting = asyncio.Event()

    async def slow_connect(*args: Any, **kwargs: Any) -> Any:
        connecting.set()
        await asyncio.sleep(0.3)
        return await connect(*args, **kwargs)

    monkeypatch.setattr(loop, "connect_write_pipe", slow_connect)
    warm = AsyncAgentWorker(PROBE, sandbox=sandbox)
    try:
        call = asyncio.ensure_future(warm.call("echo"))
        await asyncio.wait_for(connecting.wait(), _HANG_BOUND_SECONDS)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(call, 30)
        assert warm.pid is None
    finally:
        monkeypatch.undo()
        await warm.close()
