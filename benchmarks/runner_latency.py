"""Warm-runner call latency against calling the endpoint function in-process.

Runs the ``slugify`` endpoint of ``examples/text_tools_agent`` many times:

- in-process: the endpoint function imported here and awaited directly (the floor);
- warm async: ``AsyncAgentWorker.call`` (input check, framed channel, child process);
- warm sync: ``AgentWorker.call`` (the same, driven from a blocking caller);

- warm unsandboxed: ``AsyncAgentWorker(sandbox=False)``, the baseline of the sandbox's
  cost (the warm variants above run in the sandbox where one is available);

and cold ``run_endpoint`` calls (a fresh child each), sandboxed and not. Rounds are
interleaved so that load from elsewhere on the machine hits every variant alike. It
prints the median and 95th percentile per call, the time the runner adds per call
(warm median minus in-process median; target under 5 ms) and the ratio, then the
sandbox's cost as ratios sandboxed / unsandboxed, warm and cold.

    uv run python benchmarks/runner_latency.py [--calls N] [--rounds R]

Always exits 0: it reports, it does not judge the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from viksa_ai.devtools.runner import (
    AgentWorker,
    AsyncAgentWorker,
    run_endpoint,
    sandbox_status,
)

AGENT = Path(__file__).resolve().parent.parent / "examples" / "text_tools_agent"
ENDPOINT = "slugify"
INPUTS = {"text": "Hello World, from the runner benchmark", "separator": "-"}
TARGET_ADDED_MS = 5.0


def load_in_process() -> Callable[[dict[str, Any]], Awaitable[Any]]:
    """The endpoint function, imported into this process from the example's main.py."""
    spec = importlib.util.spec_from_file_location("text_tools_main", AGENT / "main.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function: Callable[[dict[str, Any]], Awaitable[Any]] = getattr(module, ENDPOINT)
    return function


async def time_in_process(
    function: Callable[[dict[str, Any]], Awaitable[Any]], calls: int
) -> list[float]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        await function(dict(INPUTS))
        samples.append(time.perf_counter() - started)
    return samples


async def time_async_worker(worker: AsyncAgentWorker, calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        await worker.call(ENDPOINT, INPUTS)
        samples.append(time.perf_counter() - started)
    return samples


def time_sync_worker(worker: AgentWorker, calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        worker.call(ENDPOINT, INPUTS)
        samples.append(time.perf_counter() - started)
    return samples


def describe(label: str, samples: list[float], floor: float | None) -> None:
    median = statistics.median(samples) * 1000
    p95 = statistics.quantiles(samples, n=20)[-1] * 1000
    line = f"  {label:<22} median {median:8.3f} ms   p95 {p95:8.3f} ms"
    if floor is not None:
        added = median - floor * 1000
        verdict = "ok" if added < TARGET_ADDED_MS else "OVER TARGET"
        line += f"   added {added:7.3f} ms/call ({verdict}, target < {TARGET_ADDED_MS:g})"
        line += f"   ratio {median / (floor * 1000):8.1f}x"
    print(line)


async def measure(calls: int, rounds: int, cold_calls: int) -> None:
    function = load_in_process()
    expected = await function(dict(INPUTS))
    in_process: list[float] = []
    warm_async: list[float] = []
    warm_sync: list[float] = []
    warm_bare: list[float] = []
    async with (
        AsyncAgentWorker(AGENT) as async_worker,
        AsyncAgentWorker(AGENT, sandbox=False) as bare_worker,
    ):
        assert (await async_worker.call(ENDPOINT, INPUTS)).value == expected
        assert (await bare_worker.call(ENDPOINT, INPUTS)).value == expected
        sync_worker = AgentWorker(AGENT)
        try:
            assert sync_worker.call(ENDPOINT, INPUTS).value == expected
            # Warm-up: first calls pay for imports and caches on both sides.
            await time_async_worker(async_worker, 50)
            await time_async_worker(bare_worker, 50)
            await asyncio.to_thread(time_sync_worker, sync_worker, 50)
            for _ in range(rounds):
                in_process += await time_in_process(function, calls)
                warm_async += await time_async_worker(async_worker, calls)
                warm_bare += await time_async_worker(bare_worker, calls)
                warm_sync += await asyncio.to_thread(time_sync_worker, sync_worker, calls)
        finally:
            await asyncio.to_thread(sync_worker.close)
    cold: list[float] = []
    cold_bare: list[float] = []
    for _ in range(cold_calls):
        for sandbox, samples in ((True, cold), (False, cold_bare)):
            started = time.perf_counter()
            await asyncio.to_thread(run_endpoint, AGENT, ENDPOINT, INPUTS, sandbox=sandbox)
            samples.append(time.perf_counter() - started)

    floor = statistics.median(in_process)
    print(f"python {sys.version.split()[0]}; {rounds} rounds x {calls} calls of {ENDPOINT!r}")
    print(f"sandbox: {sandbox_status()[1]}")
    describe("in-process (floor)", in_process, None)
    describe("warm AsyncAgentWorker", warm_async, floor)
    describe("warm AgentWorker", warm_sync, floor)
    describe("warm --no-sandbox", warm_bare, floor)
    for label, samples in (("cold run_endpoint", cold), ("cold --no-sandbox", cold_bare)):
        print(
            f"  {label:<22} median {statistics.median(samples) * 1000:8.1f} ms "
            f"(fresh child each call, {len(samples)} calls)"
        )
    warm_ratio = statistics.median(warm_async) / statistics.median(warm_bare)
    cold_ratio = statistics.median(cold) / statistics.median(cold_bare)
    print(f"  sandbox cost: warm {warm_ratio:.2f}x, cold {cold_ratio:.2f}x (sandboxed / not)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="calls per round and variant")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--cold", type=int, default=10, help="cold calls per variant")
    args = parser.parse_args()
    asyncio.run(measure(max(20, args.calls), max(1, args.rounds), max(2, args.cold)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
