"""Red team: hostile W3C trace carriers never pass the runtime onward (W3C Trace Context).

A carrier arrives from the wire (an envelope's ``trace_context``, a header): what the
runtime keeps is what an OpenTelemetry propagator parses without a word in its log, so
neither the next agent nor a tracer ever sees a tracestate W3C forbids.
"""

import logging
from types import ModuleType

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import viksa_ai.runtime

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _state_kept(rt: ModuleType, state: object) -> bool:
    token = rt._set_trace_context({"traceparent": PARENT, "tracestate": state})
    try:
        found = rt.trace_context()
    finally:
        rt._reset_trace_context(token)
    assert found["traceparent"] == PARENT  # a bad tracestate never costs the trace
    return "tracestate" in found


@pytest.mark.parametrize(
    "state",
    [
        ",".join(f"k{i}=v" for i in range(33)),  # W3C: at most 32 members
        "k=v,k=w",  # duplicate keys
        "K=v",  # keys are lowercase
        "1k=v",  # a simple key starts with a letter
        "k=v=w",  # "=" is not a value character
        "k=",  # a value has at least one character
        "=v",
        "k",
        "k=v\n,evil=1",  # control characters
        "k=\x1b[31mred",
        "k=\u00e9",  # non-ASCII
        "k=" + "v" * 257,  # a value has at most 256 characters
        "t@" + "s" * 15 + "=v",  # a system id has at most 14 characters
        "_t@s=v",
        " , ,",  # no member at all
    ],
)
def test_a_tracestate_w3c_forbids_is_dropped(rt: ModuleType, state: str) -> None:
    assert not _state_kept(rt, state)


@pytest.mark.parametrize(
    "state",
    [
        ",".join(f"k{i}=v" for i in range(32)),
        "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7",
        "k=v,,  ,\tw=x",  # empty members and optional whitespace are allowed
        "tenant@system=v",
        "0t@s_-*/=a b",  # a value may hold spaces inside
        "a/b*c_d-e=!~",
    ],
)
def test_a_w3c_tracestate_is_kept(rt: ModuleType, state: str) -> None:
    assert _state_kept(rt, state)


@pytest.mark.parametrize(
    ("traceparent", "kept"),
    [
        ("01" + PARENT[2:] + "-later-fields", PARENT),  # a later version: read as 00
        ("cc" + PARENT[2:], PARENT),
        (PARENT + "-extra", None),  # version 00 has no more fields
        ("01" + PARENT[2:] + "x", None),  # fields follow a "-"
        ("01" + PARENT[2:] + "-" + "x" * 512, None),
        ("01" + PARENT[2:] + "-\x1b[2J", None),
        (" " + PARENT, None),
        (PARENT + " ", None),
        (PARENT[:-1] + "G", None),
    ],
)
def test_a_traceparent_is_read_as_w3c_says(
    rt: ModuleType, traceparent: str, kept: str | None
) -> None:
    token = rt._set_trace_context({"traceparent": traceparent})
    try:
        assert rt.trace_context() == ({} if kept is None else {"traceparent": kept})
    finally:
        rt._reset_trace_context(token)


def test_the_tracing_hook_cleans_a_carrier() -> None:
    clean = viksa_ai.runtime._clean_carrier
    assert clean({"traceparent": PARENT, "tracestate": "k=v\nx"}) == {"traceparent": PARENT}
    assert clean({"traceparent": PARENT + "\n"}) is None
    assert clean("not a carrier") is None


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_MEMBER = st.text(
    st.characters(min_codepoint=0x09, max_codepoint=0x7F) | st.sampled_from("\u00e9\u2028"),
    max_size=12,
)


@settings(database=None, derandomize=True, max_examples=400)
@given(st.lists(_MEMBER, max_size=40).map(",".join))
@example("k=v")
@example("a=b,a=c")
def test_what_is_kept_opentelemetry_parses_in_silence(state: str) -> None:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    from opentelemetry.trace.span import TraceState

    kept = viksa_ai.runtime._clean_carrier({"traceparent": PARENT, "tracestate": state})
    assert kept is not None
    if "tracestate" not in kept:
        return
    logger = logging.getLogger("opentelemetry")
    handler = _Kept()
    logger.addHandler(handler)
    try:
        context = TraceContextTextMapPropagator().extract(kept)
    finally:
        logger.removeHandler(handler)
    assert handler.records == []
    from opentelemetry import trace

    parsed = trace.get_current_span(context).get_span_context().trace_state
    assert len(parsed) == len(TraceState.from_header([state])) > 0


_HEXISH = st.text("0123456789abcdefABF-x \n", min_size=0, max_size=34)


@settings(database=None, derandomize=True, max_examples=400)
@given(st.tuples(_HEXISH, _HEXISH, _HEXISH, _HEXISH).map("-".join), st.text(max_size=8))
@example("00-" + "1" * 32 + "-" + "2" * 16 + "-01", "")
@example("01-" + "1" * 32 + "-" + "2" * 16 + "-01", "-x")
@example("01-" + "1" * 32 + "-" + "2" * 16 + "-01", "-x\ny")
def test_a_kept_traceparent_is_one_opentelemetry_reads_the_same(head: str, tail: str) -> None:
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    kept = viksa_ai.runtime._clean_carrier({"traceparent": head + tail})
    if kept is None:
        return
    traceparent = kept["traceparent"]
    assert len(traceparent) == 55
    assert traceparent.startswith("00-")
    context = TraceContextTextMapPropagator().extract({"traceparent": head + tail})
    found = trace.get_current_span(context).get_span_context()
    assert found.is_valid
    assert traceparent == f"00-{found.trace_id:032x}-{found.span_id:016x}-{found.trace_flags:02x}"
