"""Warm worker pools: the runner's child processes that execute deployed agents.

Each deployed agent gets a small pool of :class:`AsyncAgentWorker` (up to
``workers_per_agent`` children; calls beyond that wait). At most ``max_agents`` agents
keep warm pools at once: using another retires the least recently used pool, so a
project with many agents does not keep two Python processes per agent alive forever.
A retired pool lets running calls finish; :meth:`WorkerPools.aclose` kills them too.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from viksa_ai.devtools._validation_workers import SEARCH_WORKERS
from viksa_ai.devtools.platform._tracing import queued
from viksa_ai.devtools.runner import (
    AsyncAgentWorker,
    LoadedAgent,
    PreparedCall,
    RunResult,
    WorkerCrashedError,
    load_agent,
    remove_stale_workdirs,
)
from viksa_ai.devtools.runner._call import prepare_call_on_loop

__all__ = ["Pool", "WorkerPools"]


class Pool:
    """Up to ``size`` warm workers of one deployment of an agent.

    ``sandbox`` and ``hidden_paths`` are those of the runner's ``AsyncAgentWorker``;
    ``searching`` bounds the threads that check inputs whose patterns are costly to
    search (shared by every pool of a platform; a pool of its own by default).
    """

    def __init__(
        self,
        agent: LoadedAgent,
        version: str,
        size: int,
        *,
        sandbox: bool = True,
        hidden_paths: Sequence[Path] = (),
        searching: asyncio.Semaphore | None = None,
    ) -> None:
        self.agent = agent
        self._searching = searching if searching is not None else asyncio.Semaphore(SEARCH_WORKERS)
        self.version = version
        self._size = size
        self._sandbox = sandbox
        self._hidden = tuple(hidden_paths)
        self._idle: list[AsyncAgentWorker] = []
        self._workers: set[AsyncAgentWorker] = set()
        self._slots: asyncio.Semaphore | None = None
        # Calls inside call(), waiting for a worker or running: a waiting call has no
        # worker yet but will start one, so the pool is busy until it ends.
        self._calls = 0
        self._retired = False
        self._closed = False

    @property
    def busy(self) -> bool:
        """Whether the pool has a worker, or a call running or waiting for a worker."""
        return self._calls > 0 or bool(self._workers)

    async def prepare(
        self, endpoint: str, inputs: Mapping[str, Any], envelope: Mapping[str, Any] | None
    ) -> PreparedCall:
        """``prepare_call`` of this pool's agent, off the loop for costly pattern searches.

        See :func:`~viksa_ai.devtools.runner._call.prepare_call_on_loop`; raises its
        ``InvalidInputError``.
        """
        return await prepare_call_on_loop(
            self.agent, endpoint, inputs, envelope, searching=self._searching
        )

    async def call(
        self,
        call: PreparedCall,
        secrets: Mapping[str, str],
        timeout: float,
        *,
        on_sent: Callable[[], None] | None = None,
    ) -> RunResult:
        """Run ``call`` in an idle worker (waiting for one when all are busy).

        ``on_sent`` is the runner's (``AsyncAgentWorker.call_prepared``): it runs once
        the call is handed to a warm worker, or before the call waits for one or for a
        worker to start.
        """
        self._calls += 1
        try:
            return await self._call(call, secrets, timeout, on_sent)
        finally:
            self._calls -= 1

    async def _call(
        self,
        call: PreparedCall,
        secrets: Mapping[str, str],
        timeout: float,
        on_sent: Callable[[], None] | None,
    ) -> RunResult:
        if call.agent is not self.agent:
            # Checked against an earlier deployment: check again against this one.
            call = await self.prepare(call.endpoint.name, call.inputs, call.envelope)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
        if on_sent is not None and (self._slots.locked() or not self._idle):
            on_sent()  # the call waits for a worker, or for one to start
            on_sent = None
        async with queued(self._slots, call.endpoint.name):
            if self._closed:
                # Queued behind the calls close() killed: starting a child now would run
                # agent code after the platform stopped.
                raise WorkerCrashedError(
                    "the platform stopped before this call started: run it again",
                    returncode=None,
                    endpoint=call.endpoint.name,
                )
            if self._idle:
                worker = self._idle.pop()
            else:
                worker = AsyncAgentWorker(
                    self.agent,
                    capture_output=True,
                    sandbox=self._sandbox,
                    hidden_paths=self._hidden,
                )
                self._workers.add(worker)
            try:
                return await worker.call_prepared(
                    call, secrets=secrets, timeout=timeout, on_sent=on_sent
                )
            finally:
                if self._retired:
                    self._workers.discard(worker)
                    await worker.close()
                else:
                    self._idle.append(worker)

    async def retire(self) -> None:
        """Stop the idle workers now and each busy one when its call ends."""
        self._retired = True
        idle, self._idle = self._idle, []
        for worker in idle:
            self._workers.discard(worker)
            await worker.close()

    async def close(self) -> None:
        """Stop every worker now; running and waiting calls end with ``WorkerCrashedError``."""
        self._retired = self._closed = True
        self._idle = []
        workers, self._workers = list(self._workers), set()
        await asyncio.gather(*(worker.close() for worker in workers))


class WorkerPools:
    """The warm pools of deployed agents, by agent id, least recently used first.

    Made at the platform's start: it removes the working directories of workers that a
    platform killed earlier (SIGKILL) left in the temporary folder.
    """

    def __init__(
        self,
        *,
        workers_per_agent: int,
        max_agents: int,
        spawn: Callable[[Awaitable[Any]], None],
        sandbox: bool = True,
        hidden_paths: Sequence[Path] = (),
    ) -> None:
        self.workers_per_agent = workers_per_agent
        self.max_agents = max_agents
        self._spawn = spawn
        self._sandbox = sandbox
        self._hidden = tuple(hidden_paths)
        remove_stale_workdirs()
        # Checks waiting for a pattern-search worker: as many threads as there are
        # workers, so a flood of costly values queues here rather than holding threads
        # the rest of the platform shares.
        self._searching = asyncio.Semaphore(SEARCH_WORKERS)
        self._pools: OrderedDict[str, Pool] = OrderedDict()
        # Retired pools whose calls still run: shutdown must stop them too.
        self._retiring: set[Pool] = set()

    def get(self, agent_id: str, version: str, manifest: Mapping[str, Any]) -> Pool:
        """The pool of ``agent_id`` at deployment ``version`` (made on first use)."""
        pool = self._pools.pop(agent_id, None)
        if pool is not None and pool.version != version:
            self._retire(pool)
            pool = None
        if pool is None:
            pool = Pool(
                load_agent(manifest),
                version,
                self.workers_per_agent,
                sandbox=self._sandbox,
                hidden_paths=self._hidden,
                searching=self._searching,
            )
        self._pools[agent_id] = pool
        while len(self._pools) > self.max_agents:
            self._retire(self._pools.popitem(last=False)[1])
        return pool

    async def forget(self, agent_id: str) -> None:
        """Retire the pool of an agent (after a deploy, reconcile or delete)."""
        pool = self._pools.pop(agent_id, None)
        if pool is not None:
            self._track(pool)
            await pool.retire()

    async def aclose(self) -> None:
        """Stop every worker of every pool now."""
        pools = [*self._pools.values(), *self._retiring]
        self._pools, self._retiring = OrderedDict(), set()
        await asyncio.gather(*(pool.close() for pool in pools))

    @property
    def retiring(self) -> int:
        """How many retired pools are still tracked (at most the busy ones, plus one)."""
        return len(self._retiring)

    def _retire(self, pool: Pool) -> None:
        self._track(pool)
        self._spawn(pool.retire())

    def _track(self, pool: Pool) -> None:
        # Pools whose calls have all ended need no stopping: drop them, or every
        # redeploy would keep one more pool (and its agent) alive for good.
        self._retiring = {p for p in self._retiring if p.busy}
        self._retiring.add(pool)
