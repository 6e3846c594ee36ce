"""Red team: every span the runner starts is ended, on every path.

A span that is never ended is never exported: a trace with a hole where the failure
was. ``open_spans`` (a span processor) holds the spans started and not ended; the calls
fail every way they can (timeout, the worker's death, a cancellation, an exception,
the loop blocked) and each started span must have ended, with its error recorded.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools.runner import (
    AsyncAgentWorker,
    EndpointError,
    EndpointTimeoutError,
    WorkerCrashedError,
)

PROBE = Path(__file__).parent / "fixtures" / "runner_probe"


def _errors(otel_spans: Any) -> dict[str, str]:
    return {
        span.name: str(span.attributes.get("error.type"))
        for span in otel_spans.get_finished_spans()
        if span.status.status_code.name == "ERROR"
    }


@pytest.mark.parametrize(
    ("endpoint", "inputs", "error", "kind"),
    [
        ("nap", {"seconds": 30}, EndpointTimeoutError, "timeout"),
        ("crash", {}, WorkerCrashedError, "worker_crashed"),
        ("boom", {"note": "n"}, EndpointError, "endpoint_error"),
        ("block", {"seconds": 30}, EndpointTimeoutError, "timeout"),  # the loop blocked
    ],
)
async def test_a_failed_worker_call_ends_its_span_with_the_error(
    open_spans: Any,
    otel_spans: Any,
    endpoint: str,
    inputs: dict[str, Any],
    error: type[Exception],
    kind: str,
) -> None:
    async with AsyncAgentWorker(PROBE, sandbox=False) as worker:
        with pytest.raises(error):
            await worker.call(endpoint, inputs)
    assert open_spans.spans == {}
    assert _errors(otel_spans) == {f"viksa.worker.call {endpoint}": kind}


async def test_a_cancelled_worker_call_ends_its_span(open_spans: Any, otel_spans: Any) -> None:
    async with AsyncAgentWorker(PROBE, sandbox=False) as worker:
        call = asyncio.create_task(worker.call("nap", {"seconds": 0.9}, timeout=60))
        while worker.pid is None or not open_spans.spans:  # noqa: ASYNC110 (another thread's)
            await asyncio.sleep(0.01)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
    assert open_spans.spans == {}
    assert _errors(otel_spans) == {"viksa.worker.call nap": "CancelledError"}
