"""Property tests: valid documents round-trip, any input gives a model or ValidationError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from viksa_ai.models import a2a, agent, auth, executor
from viksa_ai.models.agent import (
    AgentGenerationResponse,
    EndpointStatus,
    ExecutionConfig,
    InputType,
    MimeType,
)
from viksa_ai.models.executor import AgentInvokeRequest, EndpointExecutionRequest

# Schema building on first use and a busy CI machine make per-example timing meaningless.
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

ALL_MODELS: list[type[BaseModel]] = sorted(
    {
        value
        for module in (agent, auth, a2a, executor)
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
    },
    key=lambda model: model.__name__,
)

# JSON text never holds lone surrogates, so neither do the generated strings.
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
names = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=256)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite_floats | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


agent_files = st.fixed_dictionaries(
    {"name": text, "content": text, "mime_type": st.sampled_from([m.value for m in MimeType])}
)
main_file = st.fixed_dictionaries(
    {"name": st.just("main.py"), "content": text, "mime_type": st.just("python")}
)
file_lists = st.tuples(main_file, st.lists(agent_files, max_size=3)).flatmap(
    lambda parts: st.permutations([parts[0], *parts[1]])
)
value_types = st.sampled_from([member.value for member in InputType])
numbers = optional(st.integers() | finite_floats)
agent_inputs = st.fixed_dictionaries(
    {
        "name": text,
        "type": value_types,
        "description": optional(text),
        "default": json_values,
        "allowed_values": optional(st.lists(json_values, max_size=3)),
        "min_value": numbers,
        "max_value": numbers,
        "min_length": optional(st.integers(0, 1000)),
        "max_length": optional(st.integers(0, 1000)),
        "pattern": optional(text),
    }
)
agent_outputs = st.fixed_dictionaries(
    {
        "name": text,
        "type": value_types,
        "description": optional(text),
        "nullable": st.booleans(),
        "example": json_values,
        "format": optional(text),
    }
)
execution_configs = st.fixed_dictionaries(
    {
        "requires_approval": st.booleans(),
        "retry_count": st.integers(0, 10),
        "timeout_seconds": st.integers(1, 36000),
    }
)
agent_endpoints = st.fixed_dictionaries(
    {
        "name": text,
        "module": text,
        "endpoint": text,
        "description": text,
        "status": st.sampled_from([member.value for member in EndpointStatus]),
        "inputs": st.lists(
            st.fixed_dictionaries({"input_ref": text, "required": st.booleans()}), max_size=3
        ),
        "outputs": st.lists(text, max_size=3),
        "execution_config": optional(execution_configs),
    }
)
queue_names = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
secure_queues = st.lists(queue_names, max_size=3).flatmap(
    lambda extra: st.permutations(["workers", *extra])
)


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    """Any valid agent manifest, every field present, in its canonical wire form."""
    agent_type = draw(st.sampled_from([None, "cloud", "secure"]))
    if agent_type == "secure":
        queue: Any = {"chrona_queues": draw(secure_queues)}
    else:
        queue = draw(optional(st.fixed_dictionaries({"chrona_queues": st.lists(queue_names)})))
    return {
        "agent_name": draw(names),
        "agent_description": draw(names),
        "agent_type": agent_type,
        "chrona_queue": queue,
        "files": draw(file_lists),
        "requirements": draw(st.lists(text, max_size=3)),
        "inputs": draw(st.lists(agent_inputs, max_size=3)),
        "outputs": draw(st.lists(agent_outputs, max_size=3)),
        "agent_endpoints": draw(st.lists(agent_endpoints, max_size=3)),
        **draw(st.dictionaries(st.sampled_from(["x_extra", "generated_by"]), json_values)),
    }


@settings(PROPERTY, max_examples=60)
@given(manifests())
def test_any_valid_manifest_round_trips(data: dict[str, Any]) -> None:
    model = AgentGenerationResponse.model_validate_json(json.dumps(data))

    assert json.loads(model.model_dump_json()) == data
    assert AgentGenerationResponse.model_validate(model.to_wire()) == model


def fields_of(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects holding any subset of the model's fields with arbitrary JSON values."""
    return st.fixed_dictionaries({}, optional=dict.fromkeys(model.model_fields, json_values))


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
@settings(PROPERTY, max_examples=40)
@given(data=st.data())
def test_any_json_gives_a_model_or_validation_error(
    model: type[BaseModel], data: st.DataObject
) -> None:
    value = data.draw(json_values | fields_of(model))
    for text_input in (False, True):
        try:
            parsed = (
                model.model_validate_json(json.dumps(value))
                if text_input
                else model.model_validate(value)
            )
        except ValidationError:
            continue
        # Whatever validated serialises and validates again, to an equal model.
        assert model.model_validate_json(parsed.model_dump_json()) == parsed


@PROPERTY
@given(st.text(max_size=64))
def test_any_text_gives_a_model_or_validation_error(raw: str) -> None:
    failures: list[Any] = []
    try:
        model = AgentGenerationResponse.model_validate_json(raw)
    except ValidationError as error:
        failures = list(error.errors())
    else:
        assert AgentGenerationResponse.model_validate_json(model.model_dump_json()) == model
        return
    assert failures  # a rejected text says what failed and where
    assert all("loc" in failure for failure in failures)


@PROPERTY
@given(member=st.sampled_from(list(InputType)), data=st.data())
def test_value_type_in_any_case(member: InputType, data: st.DataObject) -> None:
    spelling = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in member.value)

    assert agent.AgentInput.model_validate({"name": "x", "type": spelling}).type is member


@PROPERTY
@given(retry_count=st.integers(-100, 100), timeout_seconds=st.integers(-100, 50000))
def test_execution_config_bounds(retry_count: int, timeout_seconds: int) -> None:
    expected_errors: set[tuple[int | str, ...]] = set()
    if not 0 <= retry_count <= 10:
        expected_errors.add(("retry_count",))
    if not 1 <= timeout_seconds <= 36000:
        expected_errors.add(("timeout_seconds",))

    if expected_errors:
        with pytest.raises(ValidationError) as exc:
            ExecutionConfig(retry_count=retry_count, timeout_seconds=timeout_seconds)
        assert {error["loc"] for error in exc.value.errors()} == expected_errors
    else:
        config = ExecutionConfig(retry_count=retry_count, timeout_seconds=timeout_seconds)
        assert (config.retry_count, config.timeout_seconds) == (retry_count, timeout_seconds)


@PROPERTY
@given(
    model=st.sampled_from([EndpointExecutionRequest, AgentInvokeRequest]),
    task_queue=st.none() | st.text(" \t\n", max_size=3) | text,
    inputs=st.dictionaries(text, json_values, max_size=3),
)
def test_secure_rule_matches_the_task_queue(
    model: type[EndpointExecutionRequest] | type[AgentInvokeRequest],
    task_queue: str | None,
    inputs: dict[str, Any],
) -> None:
    data = {
        "agent_id": "a",
        "agent_type": "secure",
        "endpoint": "a.main.f",
        "inputs": inputs,
        "task_queue": task_queue,
    }
    if task_queue and task_queue.strip():
        assert model.model_validate(data).to_wire()["inputs"] == inputs
    else:
        with pytest.raises(ValidationError) as exc:
            model.model_validate(data)
        assert [error["loc"] for error in exc.value.errors()] == [("task_queue",)]


def _manifest_rule_errors(
    files: list[dict[str, str]], agent_type: str | None, queues: list[str] | None, context: object
) -> list[tuple[tuple[str, ...], str, str, dict[str, Any] | None]]:
    """The documented rules of AgentGenerationResponse, written out independently."""
    if isinstance(context, dict) and context.get("viksa_read_as_answered") is True:
        return []
    errors: list[tuple[tuple[str, ...], str, str, dict[str, Any] | None]] = []
    if agent_type == "secure" and not any(name.strip() for name in queues or ()):
        message = (
            "a secure agent needs at least one queue: set chrona_queue to "
            '{"chrona_queues": ["<queue name>"]}, or set agent_type to "cloud"'
        )
        errors.append((("chrona_queue",), "secure_agent_without_queue", message, None))
    mains = [file for file in files if file["name"] == "main.py"]
    if not any(file["mime_type"] == "python" for file in mains):
        if mains:
            mime_type = mains[0]["mime_type"]
            message = f'main.py has mime_type "{mime_type}": set its mime_type to "python"'
            ctx = {"mime_type": mime_type}
            errors.append((("files",), "main_py_not_python", message, ctx))
        else:
            message = (
                'files must include "main.py" with mime_type "python": add the module that '
                "defines the agent's endpoints"
            )
            errors.append((("files",), "main_py_missing", message, None))
    return errors


@settings(PROPERTY, max_examples=400)
@given(
    files=st.lists(
        st.fixed_dictionaries(
            {
                "name": st.sampled_from(["main.py", "main.py", "util.py", "Main.py"]),
                "content": text,
                "mime_type": st.sampled_from([m.value for m in MimeType]),
            }
        ),
        max_size=4,
    ),
    agent_type=st.sampled_from([None, "cloud", "secure"]),
    queues=st.none() | st.lists(st.sampled_from(["", " ", "q", " q "]), max_size=3),
    context=st.sampled_from(
        [
            None,
            {"viksa_read_as_answered": True},
            {"viksa_read_as_answered": 1},
            {"other": True},
            ["viksa_read_as_answered"],
        ]
    ),
)
def test_manifest_rules_report_exactly_what_they_document(
    files: list[dict[str, str]], agent_type: str | None, queues: list[str] | None, context: object
) -> None:
    data: dict[str, Any] = {"agent_name": "a", "agent_description": "d", "files": files}
    if agent_type is not None:
        data["agent_type"] = agent_type
    if queues is not None:
        data["chrona_queue"] = {"chrona_queues": queues}
    expected = _manifest_rule_errors(files, agent_type, queues, context)
    if not expected:
        manifest = AgentGenerationResponse.model_validate(data, context=context)
        assert [file.to_wire() for file in manifest.files] == files
        return
    with pytest.raises(ValidationError) as exc:
        AgentGenerationResponse.model_validate(data, context=context)
    errors = exc.value.errors()
    assert [(err["loc"], err["type"], err["msg"], err.get("ctx")) for err in errors] == expected
