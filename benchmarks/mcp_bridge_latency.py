"""What the MCP bridge adds to a tool call, against calling the same warm worker directly.

Runs the ``slugify`` endpoint of ``examples/text_tools_agent`` many times:

- worker: ``AsyncAgentWorker.call`` (the local runner's warm child; the floor);
- bridge: an MCP ``tools/call`` through ``viksa-mcp-bridge --path`` over stdio, made by
  the official SDK's client (JSON-RPC both ways, the schema check, the same warm worker).

Rounds are interleaved so that load from elsewhere hits both alike. It prints the median
and 95th percentile per call, the time the bridge adds (medians' difference) and the
ratio.

    uv run python benchmarks/mcp_bridge_latency.py [--calls N] [--rounds R]

Always exits 0: it reports, it does not judge the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from viksa_ai.devtools.runner import AsyncAgentWorker

AGENT = Path(__file__).resolve().parent.parent / "examples" / "text_tools_agent"
INPUTS = {"text": "Hello World, from the bridge benchmark", "separator": "-"}
BRIDGE = str(Path(sys.executable).with_name("viksa-mcp-bridge"))


async def time_worker(worker: AsyncAgentWorker, calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        await worker.call("slugify", INPUTS)
        samples.append(time.perf_counter() - started)
    return samples


async def time_bridge(client: Client, calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        result = await client.call_tool("text_tools_agent_slugify", INPUTS)
        samples.append(time.perf_counter() - started)
        assert not result.is_error, result
    return samples


def describe(label: str, samples: list[float]) -> float:
    median = statistics.median(samples) * 1000
    p95 = statistics.quantiles(samples, n=20)[-1] * 1000
    print(f"{label:8} median {median:7.2f} ms   p95 {p95:7.2f} ms   ({len(samples)} calls)")
    return median


async def main(calls: int, rounds: int) -> None:
    worker_samples: list[float] = []
    bridge_samples: list[float] = []
    params = StdioServerParameters(
        command=BRIDGE, args=["--path", str(AGENT), "--log-level", "WARNING"]
    )
    async with AsyncAgentWorker(AGENT) as worker, Client(params, mode="legacy") as client:
        await time_worker(worker, 5)  # warm both up: child started, modules imported
        await time_bridge(client, 5)
        for _ in range(rounds):
            worker_samples += await time_worker(worker, calls)
            bridge_samples += await time_bridge(client, calls)
    floor = describe("worker", worker_samples)
    bridge = describe("bridge", bridge_samples)
    print(f"the bridge adds {bridge - floor:.2f} ms per call ({bridge / floor:.2f}x the worker)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="calls per round and variant")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds")
    options = parser.parse_args()
    anyio.run(main, options.calls, options.rounds)
