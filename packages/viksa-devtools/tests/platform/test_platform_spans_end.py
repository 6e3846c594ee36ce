"""Red team: every span the local platform starts is ended, on every path.

``open_spans`` (a span processor) holds the spans started and not ended: a run that
times out, a worker that dies, an endpoint that raises and a caller that goes away
mid-request must leave none behind (a span never ended is never exported).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform


@pytest.mark.parametrize(
    ("endpoint", "inputs", "status"),
    [("slow", {"seconds": 30}, "timeout"), ("crash", {}, "failed"), ("fail", {}, "failed")],
)
async def test_a_failed_platform_run_ends_every_span(
    open_spans: Any,
    otel_spans: Any,
    http: httpx.AsyncClient,
    deployed: dict[str, Any],
    execute: Any,
    endpoint: str,
    inputs: dict[str, Any],
    status: str,
) -> None:
    answer = await http.post("/pulse/executor/execute", json=execute(deployed, endpoint, **inputs))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == status
    assert open_spans.spans == {}
    names = {span.name for span in otel_spans.get_finished_spans()}
    assert {"POST /pulse/executor/execute", "viksa.run", f"viksa.worker.call {endpoint}"} <= names


async def test_a_request_whose_client_goes_away_ends_its_spans(
    open_spans: Any, viksa_platform: LocalPlatform, deployed: dict[str, Any], execute: Any
) -> None:
    transport = httpx.ASGITransport(app=viksa_platform.app)
    headers = {"Authorization": f"Bearer {viksa_platform.credentials.api_key}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", headers=headers
    ) as http:
        body = execute(deployed, "slow", seconds=0.8)
        request = asyncio.create_task(http.post("/pulse/executor/execute", json=body))
        started = open_spans.spans.values
        while not any(name.startswith("viksa.worker.call") for name in started()):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
    for _ in range(500):  # the run goes on without its caller, then ends its spans
        if not open_spans.spans:
            break
        await asyncio.sleep(0.02)
    assert open_spans.spans == {}
