"""Red team: a hostile trace carrier in a call's envelope never reaches a log or an agent.

The runner hands an envelope's ``trace_context`` to OpenTelemetry's propagator, which
logs a tracestate member it cannot parse verbatim (newlines and escape sequences
included): only well-formed W3C strings may get that far.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools.runner import AsyncAgentWorker

TRACE_PROBE = Path(__file__).parent / "fixtures" / "trace_probe"
CALLER = "00-11111111111111111111111111111111-2222222222222222-01"
HOSTILE = [
    {"traceparent": CALLER, "tracestate": "a=b,\x1b[31mred\nFAKE LOG LINE"},
    {"traceparent": CALLER, "tracestate": "k=\u00e9\u00e9"},
    {"traceparent": CALLER, "tracestate": ",".join(f"k{i}=v" for i in range(33))},
    {"traceparent": CALLER, "tracestate": 5},
    {"traceparent": CALLER + "\nFAKE"},
    {"traceparent": "x" * 100_000},
    {"traceparent": CALLER.upper()},
    {"traceparent": "ff" + CALLER[2:]},
    {"traceparent": CALLER.replace("1" * 32, "0" * 32)},
    {"traceparent": 5},
    "not a carrier",
    ["traceparent", CALLER],
]


@pytest.mark.parametrize("traced", [False, True], ids=["api-only", "sdk"])
async def test_a_hostile_envelope_carrier_is_ignored_without_a_log_line(
    traced: bool, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    import opentelemetry.trace  # noqa: F401  (imported, as FastAPI does: the traced path)

    if traced:
        request.getfixturevalue("otel_spans")
    else:
        request.getfixturevalue("no_tracer_provider")
    caplog.set_level(logging.DEBUG, logger="opentelemetry")
    seen: list[dict[str, Any]] = []
    async with AsyncAgentWorker(TRACE_PROBE, sandbox=False) as worker:
        for carrier in HOSTILE:
            envelope = {"run_id": "r", "trace_context": carrier}
            result = await worker.call("where", {}, envelope=envelope)
            seen.append(result.value["trace_context"])
    assert [r.getMessage() for r in caplog.records if r.name.startswith("opentelemetry")] == []
    for found in seen:
        # Either the caller's trace without a tracestate (the traceparent was good) or
        # no trace from the envelope at all; never a hostile string passed onward.
        assert "tracestate" not in found
        assert all("\n" not in value and "\x1b" not in value for value in found.values())
