"""Executes per second through the local platform's pulse, against calling in-process.

Starts ``viksa dev`` on a free 127.0.0.1 port (in memory), deploys a trivial endpoint,
and runs it through ``POST /pulse/executor/execute`` with the async client, sequentially
and with concurrency. The baselines, measured in the same run: the same endpoint called
in-process (its coroutine awaited directly) and through a warm runner worker (the child
process pulse uses, without HTTP). Prints rates and ratios; asserts nothing.

    uv run python benchmarks/platform_throughput.py [--calls 400] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import subprocess
import sys
import time
import types
from collections.abc import Awaitable, Callable
from typing import Any

from viksa_ai import ViksaClient
from viksa_ai.devtools.runner import AsyncAgentWorker
from viksa_ai.models.executor import AgentType, EndpointExecutionRequest

MAIN = """from typing import Any, Dict

from viksa_ai.runtime import mcp_endpoint


@mcp_endpoint(description="Add one")
async def inc(payload: Dict[str, Any]):
    return {"n": payload.get("n", 0) + 1}
"""
MANIFEST: dict[str, Any] = {
    "agent_name": "Bench",
    "agent_alias": "bench",
    "agent_description": "A trivial endpoint for the throughput benchmark",
    "files": [{"name": "main.py", "content": MAIN, "mime_type": "python"}],
    "inputs": [{"name": "n", "type": "integer"}],
    "outputs": [],
    "agent_endpoints": [
        {"name": "inc", "module": "main", "description": "inc", "inputs": [{"input_ref": "n"}]}
    ],
}


def _start_server() -> tuple[subprocess.Popen[str], dict[str, str]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "viksa_ai.devtools.cli", "dev", "--memory", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    env: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while len(env) < 4 and time.monotonic() < deadline:
        match = re.match(r"^export (VIKSA_[A-Z_]+)=(.*)$", process.stdout.readline().strip())
        if match:
            env[match[1]] = match[2]
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, env


async def _rate(calls: int, concurrency: int, call: Callable[[int], Awaitable[Any]]) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            await call(index)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(calls)))
    return calls / (time.perf_counter() - started)


async def main(calls: int, concurrency: int) -> None:
    module = types.ModuleType("bench_main")
    exec(compile(MAIN, "main.py", "exec"), module.__dict__)
    direct = await _rate(calls * 10, 1, lambda i: module.inc({"n": i}))

    async with AsyncAgentWorker(MANIFEST) as worker:
        await worker.call("inc", {"n": 0})  # warm up
        warm = await _rate(calls, 1, lambda i: worker.call("inc", {"n": i}))

    process, env = _start_server()
    try:
        async with ViksaClient(
            api_key=env["VIKSA_API_KEY"],
            org_id=env["VIKSA_ORG_ID"],
            project_id=env["VIKSA_PROJECT_ID"],
            base_url=env["VIKSA_BASE_URL"],
        ) as client:
            agent = await client.builder.agents.create(MANIFEST)
            await client.builder.deploy.build(agent["id"])
            await client.builder.deploy.deploy(agent["id"])

            def execute(i: int) -> Awaitable[Any]:
                return client.pulse.execute(
                    EndpointExecutionRequest(
                        agent_id=agent["id"],
                        agent_type=AgentType.CLOUD,
                        endpoint="bench.main.inc",
                        inputs={"n": i},
                    )
                )

            await execute(0)  # warm the worker pool
            sequential = await _rate(calls, 1, execute)
            parallel = await _rate(calls, concurrency, execute)
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()

    rows = [
        ("in-process call (baseline)", direct),
        ("warm runner worker (no HTTP)", warm),
        ("pulse execute, sequential", sequential),
        (f"pulse execute, {concurrency} at a time", parallel),
    ]
    for label, rate in rows:
        print(
            f"{label:32s} {rate:10.0f} calls/s  {rate / direct:8.5f} x baseline  "
            f"{rate / warm:6.2f} x worker"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.calls, arguments.concurrency))
