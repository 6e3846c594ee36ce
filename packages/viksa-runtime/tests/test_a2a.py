"""A2A envelope helpers and ``context()``, on both runtime copies."""

import ast
import typing
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from viksa_ai.runtime import _viksa

KEY = "__viksa_a2a__"
A2A_CONTEXT_KEYS = {
    "run_id",
    "parent_step_id",
    "caller_agent",
    "callee_agent",
    "endpoint",
    "idempotency_key",
    "deadline_at",
    "metadata",
    "protocol_version",
    "trace_context",
}

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
input_dicts = st.dictionaries(st.text(max_size=12).filter(lambda key: key != KEY), json_values)
envelopes = st.dictionaries(st.sampled_from(sorted(A2A_CONTEXT_KEYS)) | st.text(), json_values)


def test_payload_key(rt: ModuleType) -> None:
    assert rt.A2A_PAYLOAD_KEY == KEY


def test_payload_key_keeps_its_0_2_private_name(rt: ModuleType) -> None:
    # viksa-ai 0.2.x exported _A2A_PAYLOAD_KEY from ViksaAI.py and viksa_ai.runtime
    # (its __all__): worker and integrator code written against it must still import.
    assert rt._A2A_PAYLOAD_KEY == KEY


def test_attach_envelope_returns_a_new_dict(rt: ModuleType) -> None:
    inputs = {"source": "JFK", "destination": "LAX"}
    envelope: dict[str, Any] = {"run_id": "run-123", "metadata": {"tags": ["a"]}}

    attached = rt.attach_envelope(inputs, envelope)

    assert attached == {**inputs, KEY: envelope}
    assert inputs == {"source": "JFK", "destination": "LAX"}
    envelope["metadata"]["tags"].append("b")
    envelope["run_id"] = "changed"
    assert attached[KEY] == {"run_id": "run-123", "metadata": {"tags": ["a"]}}


def test_attach_envelope_replaces_an_existing_envelope(rt: ModuleType) -> None:
    inputs = {"q": 1, KEY: {"run_id": "old"}}

    assert rt.attach_envelope(inputs, {"run_id": "new"}) == {"q": 1, KEY: {"run_id": "new"}}
    assert inputs == {"q": 1, KEY: {"run_id": "old"}}


def test_attach_envelope_accepts_any_mapping(rt: ModuleType) -> None:
    attached = rt.attach_envelope(MappingProxyType({"q": 1}), MappingProxyType({"run_id": "r"}))

    assert attached == {"q": 1, KEY: {"run_id": "r"}}
    assert type(attached[KEY]) is dict


@pytest.mark.parametrize(
    ("inputs", "envelope", "message"),
    [
        (["q"], {}, r"attach_envelope\(\) inputs must be a mapping, got list"),
        (None, {}, r"attach_envelope\(\) inputs must be a mapping, got NoneType"),
        ({}, "run-1", r"attach_envelope\(\) envelope must be a mapping, got str"),
        ({}, None, r"attach_envelope\(\) envelope must be a mapping, got NoneType"),
    ],
)
def test_attach_envelope_rejects_non_mappings(
    rt: ModuleType, inputs: object, envelope: object, message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        rt.attach_envelope(inputs, envelope)


def test_split_envelope_splits_without_mutating(rt: ModuleType) -> None:
    inputs: dict[str, Any] = {"source": "JFK", KEY: {"run_id": "run-1", "metadata": {"n": [1]}}}

    rest, envelope = rt._split_envelope(inputs)

    assert rest == {"source": "JFK"}
    assert envelope == {"run_id": "run-1", "metadata": {"n": [1]}}
    assert inputs == {"source": "JFK", KEY: {"run_id": "run-1", "metadata": {"n": [1]}}}
    envelope["metadata"]["n"].append(2)
    assert inputs[KEY]["metadata"] == {"n": [1]}


def test_split_envelope_without_envelope(rt: ModuleType) -> None:
    inputs = {"source": "JFK"}

    rest, envelope = rt._split_envelope(inputs)

    assert (rest, envelope) == ({"source": "JFK"}, None)
    assert rest is not inputs
    assert rt._split_envelope({"q": 1, KEY: None}) == ({"q": 1}, None)


@pytest.mark.parametrize("bad", ["run-1", 3, ["run_id"]])
def test_split_envelope_rejects_a_malformed_envelope(rt: ModuleType, bad: object) -> None:
    with pytest.raises(TypeError, match=r"inputs\['__viksa_a2a__'\] .* must be a mapping or None"):
        rt._split_envelope({"q": 1, KEY: bad})


class _KeysMapping:
    """The least a mapping needs for dict() and the runtime's check: keys and item access."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def keys(self) -> Any:
        return self._data.keys()

    def __getitem__(self, key: str) -> Any:
        return self._data[key]


def test_split_envelope_accepts_what_attach_envelope_accepts(rt: ModuleType) -> None:
    inputs = _KeysMapping({"q": 1, KEY: _KeysMapping({"run_id": "r"})})

    assert rt._split_envelope(inputs) == ({"q": 1}, {"run_id": "r"})
    assert rt._split_envelope(_KeysMapping({"q": 1})) == ({"q": 1}, None)


def test_split_envelope_rejects_non_mapping_inputs(rt: ModuleType) -> None:
    with pytest.raises(TypeError, match=r"_split_envelope\(\) inputs must be a mapping, got list"):
        rt._split_envelope([KEY])


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(inputs=input_dicts, envelope=envelopes)
def test_attach_then_strip_round_trips(
    rt: ModuleType, inputs: dict[str, Any], envelope: dict[str, Any]
) -> None:
    rest, stripped = rt._split_envelope(rt.attach_envelope(inputs, envelope))

    assert rest == inputs
    assert stripped == envelope


def test_context_is_empty_outside_a_call(rt: ModuleType) -> None:
    assert rt.context() == {}


def test_context_returns_a_copy_of_the_current_envelope(rt: ModuleType) -> None:
    token = rt._set_envelope({"run_id": "run-1", "metadata": {"attempt": [1]}})
    try:
        first = rt.context()
        first["run_id"] = "mutated"
        first["metadata"]["attempt"].append(2)

        assert rt.context() == {"run_id": "run-1", "metadata": {"attempt": [1]}}
    finally:
        rt._reset_envelope(token)
    assert rt.context() == {}


def test_set_envelope_copies_its_argument(rt: ModuleType) -> None:
    envelope: dict[str, Any] = {"run_id": "run-1", "metadata": {"k": "v"}}
    token = rt._set_envelope(envelope)
    envelope["metadata"]["k"] = "changed"
    try:
        assert rt.context() == {"run_id": "run-1", "metadata": {"k": "v"}}
    finally:
        rt._reset_envelope(token)


def _chain(depth: int, leaf: list[str]) -> dict[str, Any]:
    """``{"m": {"m": ... [leaf] ...}}``, ``depth`` dicts deep, built without recursion."""
    value: dict[str, Any] = {"m": leaf}
    for _ in range(depth - 1):
        value = {"m": value}
    return value


def _leaf_of(value: Any) -> tuple[int, Any]:
    depth = 0
    while isinstance(value, dict):
        value = value["m"]
        depth += 1
    return depth, value


def test_an_envelope_deeper_than_the_stack_is_copied(rt: ModuleType) -> None:
    # A JSON parser lets about 1,000 levels through, and a worker splits the envelope
    # from deep in its own stack: the recursive copy raised RecursionError there.
    leaf = ["original"]
    inputs = {"q": 1, KEY: {"run_id": "deep", "metadata": _chain(5000, leaf)}}

    payload, envelope = rt._split_envelope(inputs)
    attached = rt.attach_envelope(payload, envelope)
    with rt._use_envelope(envelope) as seen:
        leaf.append("changed after the copy")
        copies = [envelope["metadata"], attached[KEY]["metadata"], seen["metadata"]]
        copies.append(rt.context()["metadata"])

    assert payload == {"q": 1}
    for copy in copies:
        assert _leaf_of(copy) == (5000, ["original"])
    assert rt.context() == {}


def _containers(value: Any) -> list[Any]:
    found: list[Any] = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            found.append(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            found.append(item)
            pending.extend(item)
    return found


@settings(max_examples=60)
@given(value=json_values)
def test_the_copy_without_recursion_is_the_recursive_copy(value: Any) -> None:
    # The fallback runs only past the stack's depth: here it is checked on every shape.
    copied = _viksa._copy_without_recursion(value)

    assert copied == _viksa._copy_nested(value) == value
    assert repr(copied) == repr(value)  # the same key and item order
    originals = {id(item) for item in _containers(value)}
    assert not originals & {id(item) for item in _containers(copied)}


def test_an_envelope_holding_itself_is_copied_not_recursed_forever(rt: ModuleType) -> None:
    metadata: dict[str, Any] = {"k": "v"}
    metadata["self"] = metadata

    attached = rt.attach_envelope({}, {"run_id": "r", "metadata": metadata})
    copied = attached[KEY]["metadata"]

    assert copied is not metadata
    assert copied["self"] is copied
    assert copied["k"] == "v"


def test_set_envelope_none_clears_and_reset_restores(rt: ModuleType) -> None:
    outer = rt._set_envelope({"run_id": "outer"})
    inner = rt._set_envelope(None)
    assert rt.context() == {}
    rt._reset_envelope(inner)
    assert rt.context() == {"run_id": "outer"}
    rt._reset_envelope(outer)
    assert rt.context() == {}


def test_set_envelope_rejects_non_mappings(rt: ModuleType) -> None:
    with pytest.raises(TypeError, match=r"_set_envelope\(\) envelope must be a mapping or None"):
        rt._set_envelope("run-1")


def test_use_envelope_scopes_the_envelope(rt: ModuleType) -> None:
    scope = rt._use_envelope({"run_id": "outer"})
    with scope as outer:
        assert outer == {"run_id": "outer"}
        with rt._use_envelope({"run_id": "inner"}) as inner:
            assert inner == rt.context() == {"run_id": "inner"}
        assert rt.context() == {"run_id": "outer"}
    assert rt.context() == {}
    with scope:  # reusable
        assert rt.context() == {"run_id": "outer"}


def test_use_envelope_restores_on_error(rt: ModuleType) -> None:
    with pytest.raises(LookupError), rt._use_envelope({"run_id": "r"}):
        raise LookupError
    assert rt.context() == {}


def test_a2a_context_is_a_partial_typed_dict(rt: ModuleType) -> None:
    a2a_context = rt.A2AContext

    assert typing.is_typeddict(a2a_context)
    assert a2a_context.__total__ is False
    assert set(a2a_context.__annotations__) == A2A_CONTEXT_KEYS
    assert a2a_context.__optional_keys__ == frozenset(A2A_CONTEXT_KEYS)
    assert typing.get_type_hints(a2a_context)["protocol_version"] is int
    assert a2a_context(run_id="r") == {"run_id": "r"}
    assert "A2AContext" in dir(rt)
    assert rt.A2AContext is a2a_context


def test_a2a_context_for_type_checkers_matches_the_runtime_one() -> None:
    # _viksa.py spells A2AContext twice: a class for type checkers, and a TypedDict built
    # on first use at run time (so that importing the runtime does not import typing).
    tree = ast.parse(Path(_viksa.__file__).read_text(encoding="utf-8"))
    [static] = [
        node
        for block in tree.body
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for node in block.body
        if isinstance(node, ast.ClassDef) and node.name == "A2AContext"
    ]
    static_fields = {
        statement.target.id: ast.unparse(statement.annotation)
        for statement in static.body
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
    }
    runtime_fields = {
        name: hint.__name__ if type(hint) is type else repr(hint)  # dict[...] is a type on 3.10
        for name, hint in _viksa.A2AContext.__annotations__.items()
    }

    assert ast.unparse(static).startswith("class A2AContext(TypedDict, total=False):")
    assert {name: hint.replace("typing.", "") for name, hint in runtime_fields.items()} == (
        static_fields
    )


def test_unknown_attribute_is_an_attribute_error(rt: ModuleType) -> None:
    with pytest.raises(AttributeError, match="has no attribute 'A2AContexts'"):
        _ = rt.A2AContexts


async def test_worker_flow_runs_an_endpoint_with_its_envelope(rt: ModuleType) -> None:
    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []

    async def get_flights(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append((payload, dict(rt.context())))
        return {"flights": []}

    endpoint = rt.mcp_endpoint(description="Get flights")(get_flights)
    wire = rt.attach_envelope({"source": "JFK"}, {"run_id": "run-7", "caller_agent": "planner"})

    payload, envelope = rt._split_envelope(wire)
    with rt._use_envelope(envelope):
        assert await endpoint(payload) == {"flights": []}

    assert seen == [({"source": "JFK"}, {"run_id": "run-7", "caller_agent": "planner"})]
    assert rt.context() == {}
