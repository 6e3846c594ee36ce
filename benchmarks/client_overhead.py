"""What ViksaClient costs over raw httpx, and what its fast transport gains.

Against a loopback server in another process (client and server pinned to different
cores), each scenario runs with: raw ``httpx.AsyncClient`` (default transport, JSON
decoded, the same requests: credentials, tenant and, on writes, an idempotency key),
``ViksaClient`` on the default transport, and ``ViksaClient(http_backend="aiohttp")``.
Each round sends the scenario's requests with every variant, interleaved in blocks of
1/8 with the order rotating, and gives one throughput ratio against raw httpx; the
median of those paired ratios is reported (with their range), so a busy machine's drift
hits all variants alike.

    uv run python benchmarks/client_overhead.py [--requests 2000] [--rounds 7] [--otel-noop]

``--otel-noop`` imports ``opentelemetry.trace`` first without configuring an SDK, so
every SDK call takes its tracing path with the API's no-op tracer (the cost for users
who install ``viksa-client[otel]`` but export nothing); the targets stay the same.

Targets: default transport >= 0.97 of raw; fast transport >= 1.3x raw sequentially and
>= 3x raw at concurrency 50. The script always exits 0: it reports.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from viksa_ai.client import ViksaClient

# Run as a script, this file's folder is on sys.path but the repository root is not.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import _loopback

CONCURRENCY = 50
BLOCKS = 8
TOKEN = "bench-token"
HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "X-Tenant-Org-Id": "org-1",
    "X-Tenant-Project-Id": "proj-1",
    "Accept": "application/json",
}
NEW_AGENT = {
    "agent_name": "flights",
    "agent_alias": "flights",
    "agent_description": "Finds flights",
    "agent_type": "cloud",
}

Job = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Scenario:
    name: str
    concurrency: int
    write: bool
    targets: dict[str, float]


SCENARIOS = [
    Scenario("sequential GET", 1, False, {"viksa": 0.97, "viksa+aiohttp": 1.3}),
    Scenario(
        f"GET at concurrency {CONCURRENCY}",
        CONCURRENCY,
        False,
        {"viksa": 0.97, "viksa+aiohttp": 3.0},
    ),
    Scenario("sequential POST create", 1, True, {"viksa": 0.97, "viksa+aiohttp": 1.3}),
]


async def _run(job: Job, requests: int, concurrency: int) -> float:
    async def worker(count: int) -> None:
        for _ in range(count):
            await job()

    start = time.perf_counter()
    share, extra = divmod(requests, concurrency)
    await asyncio.gather(*(worker(share + (i < extra)) for i in range(concurrency)))
    return time.perf_counter() - start


def _jobs(
    scenario: Scenario, base: str, raw: httpx.AsyncClient, sdk: ViksaClient, fast: ViksaClient
) -> dict[str, Job]:
    if scenario.write:

        async def raw_job() -> object:
            # The same request as the SDK's: a careful raw caller keys its writes too.
            headers = {**HEADERS, "Idempotency-Key": f"raw-{os.urandom(16).hex()}"}
            response = await raw.post(
                f"{base}/builder/agent/create", json=NEW_AGENT, headers=headers
            )
            response.raise_for_status()
            return response.json()

        return {
            "raw httpx": raw_job,
            "viksa": lambda: sdk.builder.agents.create(NEW_AGENT),
            "viksa+aiohttp": lambda: fast.builder.agents.create(NEW_AGENT),
        }

    async def raw_get() -> object:
        response = await raw.get(f"{base}/builder/agent/ag-1", headers=HEADERS)
        response.raise_for_status()
        return response.json()

    return {
        "raw httpx": raw_get,
        "viksa": lambda: sdk.builder.agents.get("ag-1"),
        "viksa+aiohttp": lambda: fast.builder.agents.get("ag-1"),
    }


async def _scenario(scenario: Scenario, base: str, requests: int, rounds: int) -> None:
    async with (
        httpx.AsyncClient() as raw,
        ViksaClient(TOKEN, org_id="org-1", project_id="proj-1", base_url=base) as sdk,
        ViksaClient(
            TOKEN, org_id="org-1", project_id="proj-1", base_url=base, http_backend="aiohttp"
        ) as fast,
    ):
        jobs = _jobs(scenario, base, raw, sdk, fast)
        for job in jobs.values():  # warm up: connections, caches, lazy imports
            await _run(job, 200, scenario.concurrency)
        times: dict[str, list[float]] = {name: [] for name in jobs}
        names = list(jobs)
        # Each round sends `requests` per variant, interleaved in blocks (order rotating),
        # so that the machine's drift hits every variant alike.
        block = max(requests // BLOCKS, scenario.concurrency)
        for round_ in range(rounds):
            spent = dict.fromkeys(names, 0.0)
            for index in range(0, requests, block):
                shift = (round_ + index // block) % len(names)
                for name in names[shift:] + names[:shift]:
                    size = min(block, requests - index)
                    spent[name] += await _run(jobs[name], size, scenario.concurrency)
            for name in names:
                times[name].append(spent[name])
    print(f"\n{scenario.name}: {requests} requests x {rounds} rounds")
    for name in names:
        # Ratios are paired per round (same minute, same machine load), then the median;
        # the range shows how much the machine's load moved them.
        ratios = [raw / mine for raw, mine in zip(times["raw httpx"], times[name], strict=True)]
        ratio = statistics.median(ratios)
        rate = requests / statistics.median(times[name])
        line = (
            f"  {name:<14} {rate:8.0f} req/s  ratio {ratio:5.2f} "
            f"(rounds {min(ratios):.2f}-{max(ratios):.2f})"
        )
        target = scenario.targets.get(name)
        if target is not None:
            line += f"  target >= {target:<4}  {'PASS' if ratio >= target else 'FAIL'}"
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--otel-noop", action="store_true", help="trace with the no-op tracer")
    args = parser.parse_args()
    if args.otel_noop:
        import opentelemetry.trace  # noqa: F401 - its presence turns the client's tracing on

        print("tracing on, opentelemetry API only (no-op tracer)")
    client_cpu, server_cpu = _loopback.cpus()
    process, port = _loopback.start(server_cpu)
    try:
        if client_cpu is not None:
            os.sched_setaffinity(0, {client_cpu})
        print(f"client on cpu {client_cpu}, server on cpu {server_cpu} (pid {process.pid})")
        base = f"http://127.0.0.1:{port}"
        for scenario in SCENARIOS:
            asyncio.run(_scenario(scenario, base, args.requests, args.rounds))
    finally:
        _loopback.stop(process)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
