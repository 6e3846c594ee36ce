"""The W3C trace carrier of the runtime: stdlib strings only, carried by the A2A envelope."""

from collections.abc import Iterator
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import viksa_ai.runtime

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
OTHER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture(autouse=True)
def _no_provider() -> Iterator[None]:
    yield
    viksa_ai.runtime._set_trace_provider(None)


def test_no_trace_outside_a_call(rt: ModuleType) -> None:
    assert rt.trace_context() == {}
    assert rt.attach_envelope({"a": 1}, {"run_id": "r"}) == {
        "a": 1,
        rt.A2A_PAYLOAD_KEY: {"run_id": "r"},
    }


def test_the_key_is_documented_and_stable(rt: ModuleType) -> None:
    assert rt.A2A_TRACE_KEY == "trace_context"
    assert "trace_context" in rt.A2AContext.__annotations__


def test_attach_envelope_carries_the_current_trace(rt: ModuleType) -> None:
    token = rt._set_trace_context({"traceparent": PARENT, "tracestate": "k=v"})
    try:
        attached = rt.attach_envelope({"a": 1}, {"run_id": "r"})
    finally:
        rt._reset_trace_context(token)
    assert attached[rt.A2A_PAYLOAD_KEY] == {
        "run_id": "r",
        "trace_context": {"traceparent": PARENT, "tracestate": "k=v"},
    }
    assert rt.trace_context() == {}


def test_an_explicit_trace_in_the_envelope_wins(rt: ModuleType) -> None:
    token = rt._set_trace_context({"traceparent": PARENT})
    try:
        attached = rt.attach_envelope({}, {"trace_context": {"traceparent": OTHER}})
    finally:
        rt._reset_trace_context(token)
    assert attached[rt.A2A_PAYLOAD_KEY]["trace_context"] == {"traceparent": OTHER}


def test_the_envelope_trace_is_the_fallback_for_the_endpoint(rt: ModuleType) -> None:
    # A worker without opentelemetry still passes the caller's trace on to the next agent.
    with rt._use_envelope({"run_id": "r", "trace_context": {"traceparent": PARENT}}):
        assert rt.trace_context() == {"traceparent": PARENT}
        onward = rt.attach_envelope({}, {"run_id": "r2"})
    assert onward[rt.A2A_PAYLOAD_KEY]["trace_context"] == {"traceparent": PARENT}


def test_the_worker_trace_wins_over_the_envelope(rt: ModuleType) -> None:
    with rt._use_envelope({"trace_context": {"traceparent": PARENT}}):
        token = rt._set_trace_context({"traceparent": OTHER})
        try:
            assert rt.trace_context() == {"traceparent": OTHER}
        finally:
            rt._reset_trace_context(token)


def test_a_provider_names_the_current_span(rt: ModuleType) -> None:
    token = rt._set_trace_context({"traceparent": PARENT})
    try:
        rt._set_trace_provider(lambda: {"traceparent": OTHER})
        assert rt.trace_context() == {"traceparent": OTHER}
        rt._set_trace_provider(lambda: None)  # no span current: the call's own context
        assert rt.trace_context() == {"traceparent": PARENT}
        rt._set_trace_provider(lambda: 1 / 0)
        assert rt.trace_context() == {"traceparent": PARENT}
    finally:
        rt._set_trace_provider(None)
        rt._reset_trace_context(token)


def test_copies_share_the_provider(second_copy: ModuleType) -> None:
    viksa_ai.runtime._set_trace_provider(lambda: {"traceparent": OTHER})
    assert second_copy.trace_context() == {"traceparent": OTHER}


@pytest.mark.parametrize(
    "carrier",
    [
        None,
        "00-x",
        {"traceparent": PARENT.upper()},
        {"traceparent": PARENT[:-1]},
        {"traceparent": "ff" + PARENT[2:]},
        {"traceparent": "00-" + "0" * 32 + PARENT[35:]},
        {"traceparent": PARENT[:36] + "0" * 16 + "-01"},
        {"traceparent": 42},
        {"tracestate": "k=v"},
    ],
)
def test_an_invalid_carrier_is_no_trace(rt: ModuleType, carrier: object) -> None:
    token = rt._set_trace_context(carrier)
    try:
        assert rt.trace_context() == {}
    finally:
        rt._reset_trace_context(token)


def test_a_bad_tracestate_is_dropped_alone(rt: ModuleType) -> None:
    for state in ("x" * 513, "k=v\n", "", 7, "k=é"):
        token = rt._set_trace_context({"traceparent": PARENT, "tracestate": state})
        try:
            assert rt.trace_context() == {"traceparent": PARENT}
        finally:
            rt._reset_trace_context(token)


@settings(database=None, derandomize=True, max_examples=200)
@given(st.dictionaries(st.text(max_size=12), st.text(max_size=60) | st.integers()))
def test_any_carrier_gives_a_clean_one_or_none(carrier: dict[str, object]) -> None:
    token = viksa_ai.runtime._set_trace_context(carrier)  # type: ignore[arg-type]
    try:
        found = viksa_ai.runtime.trace_context()
    finally:
        viksa_ai.runtime._reset_trace_context(token)
    assert found == {} or set(found) <= {"traceparent", "tracestate"}
    assert all(isinstance(value, str) for value in found.values())
