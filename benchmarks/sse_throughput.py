"""How fast ViksaClient's event streams decode, against raw httpx line iteration.

A loopback server in another process (pinned to another core) streams ``--events``
small JSON events. Measured in one run, rounds alternating the order:

- raw ``aiter_lines()`` + ``json.loads`` (the baseline),
- ``ViksaClient`` stream (``chat.stream_execution``), default and aiohttp transports,
- the floor: raw ``aiter_bytes()`` with no parsing at all.

    uv run python benchmarks/sse_throughput.py [--events 100000] [--rounds 5]

Target: the ViksaClient stream at least 1.5x the raw line baseline. Always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from viksa_ai.client import ViksaClient

# Run as a script, this file's folder is on sys.path but the repository root is not.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import _loopback

TARGET = 1.5


async def _raw_lines(http: httpx.AsyncClient, url: str) -> int:
    count = 0
    async with http.stream("GET", url) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                data = line[6:]
                if data == "[DONE]":
                    break
                json.loads(data)
                count += 1
    return count


async def _raw_bytes(http: httpx.AsyncClient, url: str) -> int:
    size = 0
    async with http.stream("GET", url) as response:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
    return size


async def _viksa(client: ViksaClient) -> int:
    count = 0
    async with client.chat.stream_execution("c1") as stream:
        async for _ in stream:
            count += 1
    return count


async def _measure(base: str, events: int, rounds: int) -> dict[str, list[float]]:
    url = f"{base}/chat/execution/c1/stream"
    async with (
        httpx.AsyncClient(timeout=60) as http,
        ViksaClient("t", base_url=base, timeout=60) as sdk,
        ViksaClient("t", base_url=base, timeout=60, http_backend="aiohttp") as fast,
    ):
        variants: dict[str, Callable[[], Awaitable[int]]] = {
            "raw aiter_lines + json": lambda: _raw_lines(http, url),
            "viksa stream": lambda: _viksa(sdk),
            "viksa stream+aiohttp": lambda: _viksa(fast),
            "floor: raw aiter_bytes": lambda: _raw_bytes(http, url),
        }
        for name, variant in variants.items():  # warm up: connections, sessions, caches
            count = await variant()
            assert name.startswith("floor") or count == events, (name, count)
        times: dict[str, list[float]] = {name: [] for name in variants}
        names = list(variants)
        for round_ in range(rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                start = time.perf_counter()
                await variants[name]()
                times[name].append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    client_cpu, server_cpu = _loopback.cpus()
    process, port = _loopback.start(server_cpu, events=args.events)
    try:
        if client_cpu is not None:
            os.sched_setaffinity(0, {client_cpu})
        print(f"client on cpu {client_cpu}, server on cpu {server_cpu}")
        times = asyncio.run(_measure(f"http://127.0.0.1:{port}", args.events, args.rounds))
    finally:
        _loopback.stop(process)
    print(f"{args.events} events x {args.rounds} rounds")
    baseline = times["raw aiter_lines + json"]
    for name, samples in times.items():
        # Paired per round (same machine load), then the median; the range shows the spread.
        ratios = [raw / mine for raw, mine in zip(baseline, samples, strict=True)]
        ratio = statistics.median(ratios)
        rate = args.events / statistics.median(samples)
        line = (
            f"  {name:<24} {rate:9.0f} events/s  ratio {ratio:5.2f} "
            f"(rounds {min(ratios):.2f}-{max(ratios):.2f})"
        )
        if name.startswith("viksa"):
            line += f"  target >= {TARGET}  {'PASS' if ratio >= TARGET else 'FAIL'}"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
