"""What the local platform's tracing costs per execute, against the execute itself.

In one process: the median time of ``pulse.execute`` through the ASGI app with a warm
worker and tracing off (the baseline), then, in interleaved rounds, one execute's
tracing work run alone: its hooks with opentelemetry not imported (the path of every
user without the ``otel`` extra), its five spans (route, ``viksa.validate``,
``viksa.run``, ``viksa.queue``, ``viksa.worker.call``) with the SDK and no exporter,
and the same with the dashboard's span recorder fed (``viksa dev`` with the SDK
installed). Toggling ``sys.modules["opentelemetry.trace"]`` switches the hooks off.

    uv run python benchmarks/platform_tracing_overhead.py [--executes 200] [--rounds 7]

Reported as ratios of the execute's baseline. The script always exits 0: it reports.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider

from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform._tracing import (
    continue_envelope,
    note_trace,
    recording_processor,
    step,
)
from viksa_ai.devtools.runner import _tracing as runner_tracing
from viksa_ai.devtools.runner._tracing import worker_span

_AGENT = """
from typing import Any, Dict

from ViksaAI import mcp_endpoint


@mcp_endpoint(description="Echo")
async def echo(payload: Dict[str, Any]):
    return {"text": payload.get("text")}
"""
_INPUTS = {"text": "x"}


def _manifest() -> dict[str, Any]:
    endpoint = {"module": "main", "outputs": [], "name": "echo", "description": "echo"}
    return {
        "agent_name": "Echo",
        "agent_alias": "echo",
        "agent_description": "An echo for the tracing benchmark",
        "agent_type": "cloud",
        "files": [{"name": "main.py", "content": _AGENT, "mime_type": "python"}],
        "requirements": [],
        "inputs": [{"name": "text", "type": "string"}],
        "outputs": [],
        "agent_endpoints": [{**endpoint, "inputs": [{"input_ref": "text"}]}],
    }


async def _execute_us(executes: int) -> float:
    """Median microseconds of one pulse.execute (ASGI, warm worker), untraced."""
    local = LocalPlatform.start()
    headers = {"Authorization": f"Bearer {local.credentials.api_key}"}
    transport = httpx.ASGITransport(app=local.app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", headers=headers, timeout=60
        ) as http:
            agent = (await http.post("/builder/agent/create", json=_manifest())).json()
            for route in ("/builder/builder/", "/builder/deploy/"):
                (await http.post(route, json={"agent_id": agent["id"]})).raise_for_status()
            body = {
                "agent_id": agent["id"],
                "agent_type": "cloud",
                "endpoint": "echo.main.echo",
                "inputs": _INPUTS,
            }
            times = []
            for index in range(executes + 20):
                started = time.perf_counter()
                answer = await http.post("/pulse/executor/execute", json=body)
                if index >= 20:  # the first ones start the worker
                    times.append(time.perf_counter() - started)
                assert answer.json()["status"] == "completed", answer.text
    finally:
        await local.aclose()
    return statistics.median(times) * 1e6


def _engine_steps() -> None:
    record: dict[str, Any] = {}
    with continue_envelope(_INPUTS, None, "echo.main.echo"):
        with step("viksa.validate", **{"viksa.endpoint": "echo.main.echo"}):
            pass
        with step("viksa.run", **{"viksa.endpoint": "echo.main.echo"}):
            note_trace(record)
            with step("viksa.queue", **{"viksa.endpoint": "echo"}):
                pass
            with worker_span("echo", None):
                pass


def _traced_execute(tracer: Any) -> Callable[[], None]:
    """The tracing work of one execute: the middleware's route span around the steps."""

    def job() -> None:
        with tracer.start_as_current_span("POST /pulse/executor/execute"):
            _engine_steps()

    return job


def _us_per_call(job: Callable[[], None], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        job()
    return (time.perf_counter() - started) / calls * 1e6


class _Switch(SpanProcessor):
    """Forwards to the recorder's processor only while on (rounds interleave)."""

    def __init__(self) -> None:
        self.on = False
        self.inner: SpanProcessor | None = None

    def on_end(self, span: ReadableSpan) -> None:
        if self.on and self.inner is not None:
            self.inner.on_end(span)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000, help="tracing runs per round")
    args = parser.parse_args()
    module = sys.modules.pop("opentelemetry.trace")
    execute = asyncio.run(_execute_us(args.executes))
    sys.modules["opentelemetry.trace"] = module
    provider = TracerProvider()
    switch = _Switch()
    provider.add_span_processor(switch)
    trace.set_tracer_provider(provider)
    switch.inner = recording_processor()  # what viksa dev adds to its provider
    tracer = trace.get_tracer("benchmark")
    results: dict[str, list[float]] = {"untraced": [], "sdk": [], "sdk+recorder": []}
    for _ in range(args.rounds):
        # Untraced (no opentelemetry, as without the extra), the middleware makes no
        # span: only the engine's hooks run. The hooks remember a provider was set.
        sys.modules.pop("opentelemetry.trace")
        runner_tracing._PROVIDER_SET.clear()
        results["untraced"].append(_us_per_call(_engine_steps, args.calls))
        sys.modules["opentelemetry.trace"] = module
        for name, on in (("sdk", False), ("sdk+recorder", True)):
            switch.on = on
            results[name].append(_us_per_call(_traced_execute(tracer), args.calls))
    print(f"pulse.execute (ASGI, warm worker, untraced): {execute:.0f} us (median)")
    for name, times in results.items():
        cost = statistics.median(times)
        print(
            f"{name:<14} tracing work per execute {cost:7.1f} us = {cost / execute:.4f} x execute"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
