"""Red team: hostile trace headers and envelope carriers at the local platform.

What is not W3C Trace Context never becomes a parent, never reaches a log (the
OpenTelemetry propagator logs what it cannot parse, verbatim) and never fails a call.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

GOOD_TRACE = "0af7651916cd43dd8448eb211c80319c"
GOOD = f"00-{GOOD_TRACE}-b7ad6b7169203331-01"
OTHER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _route_span(spans: Any) -> Any:
    [route] = [span for span in spans if span.name.startswith("POST /pulse")]
    return route


@pytest.mark.parametrize(
    ("headers", "parent"),
    [
        ([(b"traceparent", GOOD)], GOOD_TRACE),
        (
            [(b"traceparent", GOOD), (b"tracestate", "k=\u00e9\u00e9,a=\x85".encode("latin-1"))],
            GOOD_TRACE,
        ),
        (
            [(b"traceparent", GOOD), (b"tracestate", b",".join(b"k%d=v" % i for i in range(33)))],
            GOOD_TRACE,
        ),
        ([(b"traceparent", GOOD), (b"traceparent", OTHER)], None),  # not a list: no parent
        ([(b"traceparent", "01" + GOOD[2:] + "-later-fields")], GOOD_TRACE),  # read as 00
        ([(b"traceparent", GOOD.upper())], None),
        ([(b"traceparent", b"ff" + GOOD[2:].encode())], None),
        ([(b"traceparent", b"x" * 8000)], None),
        ([(b"traceparent", "00-\u00e9".encode("latin-1"))], None),
    ],
)
async def test_hostile_trace_headers_are_ignored_without_a_log_line(
    otel_spans: Any,
    http: httpx.AsyncClient,
    deployed: dict[str, Any],
    execute: Any,
    caplog: pytest.LogCaptureFixture,
    headers: list[tuple[bytes, Any]],
    parent: str | None,
) -> None:
    caplog.set_level(logging.DEBUG, logger="opentelemetry")
    raw = [(name, value if isinstance(value, bytes) else value.encode()) for name, value in headers]
    answer = await http.post(
        "/pulse/executor/execute", json=execute(deployed, "echo", text="t"), headers=raw
    )
    assert answer.status_code == 200, answer.text
    route = _route_span(otel_spans.get_finished_spans())
    if parent is None:
        assert route.parent is None
    else:
        assert f"{route.parent.trace_id:032x}" == parent
    assert not route.context.trace_state  # never a tracestate W3C forbids
    assert [r.getMessage() for r in caplog.records if r.name.startswith("opentelemetry")] == []


async def test_a_hostile_envelope_carrier_at_the_platform_is_ignored_without_a_log_line(
    otel_spans: Any,
    http: httpx.AsyncClient,
    deployed: dict[str, Any],
    execute: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="opentelemetry")
    carrier = {"traceparent": GOOD, "tracestate": "a=b,\x1b[31mred\nFAKE LOG LINE"}
    body = execute(
        deployed, "echo", text="t", __viksa_a2a__={"run_id": "r", "trace_context": carrier}
    )
    answer = await http.post("/pulse/executor/execute", json=body)
    assert answer.status_code == 200, answer.text
    [run] = [span for span in otel_spans.get_finished_spans() if span.name == "viksa.execute"]
    assert f"{run.parent.trace_id:032x}" == GOOD_TRACE  # the traceparent was good
    assert not run.parent.trace_state
    assert [r.getMessage() for r in caplog.records if r.name.startswith("opentelemetry")] == []
