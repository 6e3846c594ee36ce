"""The agent manifest family: defaults, constraints, the manifest rules and extras."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from viksa_ai.models.agent import (
    AgentCreationRequest,
    AgentEndpoint,
    AgentFile,
    AgentFileType,
    AgentGenerationResponse,
    AgentInput,
    AgentOutput,
    AgentQueue,
    AgentType,
    AgentUpdateRequest,
    ChronaQueue,
    EndpointInputRef,
    EndpointStatus,
    ExecutionConfig,
    InputType,
    MimeType,
)

MAIN_PY = {"name": "main.py", "content": "async def ping(payload):\n    return {}\n"}


def manifest(**overrides: Any) -> dict[str, Any]:
    """A minimal valid manifest with ``overrides`` applied."""
    base: dict[str, Any] = {
        "agent_name": "Ping",
        "agent_description": "Answers pings",
        "files": [{**MAIN_PY, "mime_type": "python"}],
    }
    return {**base, **overrides}


def error_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, Any]:
    """The only error of a ValidationError, as pydantic reports it."""
    errors = exc.value.errors()
    assert len(errors) == 1, errors
    return dict(errors[0])


def test_minimal_manifest_gets_documented_defaults() -> None:
    model = AgentGenerationResponse.model_validate(manifest())

    assert model.agent_type is None
    assert model.chrona_queue is None
    assert model.requirements == []
    assert model.inputs == []
    assert model.outputs == []
    assert model.agent_endpoints == []


def test_endpoint_defaults() -> None:
    endpoint = AgentEndpoint.model_validate(
        {"name": "ping", "module": "main", "description": "Ping"}
    )

    assert endpoint.endpoint == ""
    assert endpoint.status is EndpointStatus.ENABLED
    assert endpoint.inputs == []
    assert endpoint.outputs == []
    assert endpoint.execution_config is None


def test_part_defaults() -> None:
    assert EndpointInputRef(input_ref="q").required is True
    config = ExecutionConfig()
    assert (config.requires_approval, config.retry_count, config.timeout_seconds) == (
        False,
        3,
        30,
    )
    output = AgentOutput.model_validate({"name": "o", "type": "string"})
    assert (output.nullable, output.example, output.format, output.description) == (
        False,
        None,
        None,
        None,
    )
    agent_input = AgentInput.model_validate({"name": "i", "type": "integer"})
    assert agent_input.default is None
    assert agent_input.allowed_values is None
    assert ChronaQueue().chrona_queues == []


def test_creation_request_defaults_to_cloud() -> None:
    request = AgentCreationRequest(
        agent_name="Ping", agent_alias="ping", agent_description="Answers pings"
    )

    assert request.agent_type is AgentType.CLOUD
    assert request.to_wire()["agent_type"] == "cloud"
    assert request.files == []


@pytest.mark.parametrize("length", [1, 128, 256])
def test_agent_name_lengths_accepted(length: int) -> None:
    model = AgentGenerationResponse.model_validate(manifest(agent_name="n" * length))

    assert len(model.agent_name) == length


@pytest.mark.parametrize(
    ("name", "error_type"), [("", "string_too_short"), ("n" * 257, "string_too_long")]
)
def test_agent_name_lengths_rejected(name: str, error_type: str) -> None:
    with pytest.raises(ValidationError) as exc:
        AgentGenerationResponse.model_validate(manifest(agent_name=name))

    error = error_of(exc)
    assert error["loc"] == ("agent_name",)
    assert error["type"] == error_type


def test_agent_description_must_not_be_empty() -> None:
    with pytest.raises(ValidationError) as exc:
        AgentGenerationResponse.model_validate(manifest(agent_description=""))

    assert error_of(exc)["loc"] == ("agent_description",)


@pytest.mark.parametrize("model_type", [AgentCreationRequest, AgentUpdateRequest])
def test_request_models_share_the_name_constraint(
    model_type: type[AgentCreationRequest] | type[AgentUpdateRequest],
) -> None:
    with pytest.raises(ValidationError) as exc:
        model_type.model_validate({"agent_name": "", "agent_alias": "a", "agent_description": "d"})

    assert error_of(exc)["loc"] == ("agent_name",)


@pytest.mark.parametrize("retry_count", [0, 3, 10])
def test_retry_count_bounds_accepted(retry_count: int) -> None:
    assert ExecutionConfig(retry_count=retry_count).retry_count == retry_count


@pytest.mark.parametrize("retry_count", [-1, 11])
def test_retry_count_bounds_rejected(retry_count: int) -> None:
    with pytest.raises(ValidationError) as exc:
        ExecutionConfig(retry_count=retry_count)

    assert error_of(exc)["loc"] == ("retry_count",)


@pytest.mark.parametrize("timeout_seconds", [1, 30, 36000])
def test_timeout_bounds_accepted(timeout_seconds: int) -> None:
    assert ExecutionConfig(timeout_seconds=timeout_seconds).timeout_seconds == timeout_seconds


@pytest.mark.parametrize("timeout_seconds", [0, 36001])
def test_timeout_bounds_rejected(timeout_seconds: int) -> None:
    with pytest.raises(ValidationError) as exc:
        ExecutionConfig(timeout_seconds=timeout_seconds)

    assert error_of(exc)["loc"] == ("timeout_seconds",)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("field", ["min_value", "max_value"])
def test_value_bounds_must_be_finite(field: str, value: float) -> None:
    # json.loads reads NaN and Infinity; a NaN bound would compare False and check nothing.
    with pytest.raises(ValidationError) as exc:
        AgentInput.model_validate({"name": "n", "type": "float", field: value})

    assert {error["loc"][0] for error in exc.value.errors()} == {field}
    assert "finite" in str(exc.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
@pytest.mark.parametrize("field", ["timeout_seconds", "retry_count"])
def test_execution_limits_must_be_finite(field: str, value: float) -> None:
    with pytest.raises(ValidationError) as exc:
        ExecutionConfig.model_validate({field: value})

    assert error_of(exc)["loc"] == (field,)


def test_nested_errors_name_the_full_path() -> None:
    endpoint = {
        "name": "ping",
        "module": "main",
        "description": "Ping",
        "execution_config": {"retry_count": 99},
    }
    with pytest.raises(ValidationError) as exc:
        AgentGenerationResponse.model_validate(manifest(agent_endpoints=[endpoint]))

    assert error_of(exc)["loc"] == ("agent_endpoints", 0, "execution_config", "retry_count")
    assert "agent_endpoints.0.execution_config.retry_count" in str(exc.value)


@pytest.mark.parametrize("spelling", ["string", "STRING", "String", "sTrInG"])
def test_value_types_are_case_insensitive(spelling: str) -> None:
    agent_input = AgentInput.model_validate({"name": "q", "type": spelling})
    output = AgentOutput.model_validate_json(f'{{"name": "q", "type": "{spelling}"}}')

    assert agent_input.type is InputType.STRING
    assert output.type is InputType.STRING
    assert agent_input.to_wire()["type"] == "string"
    assert InputType(spelling) is InputType.STRING


@pytest.mark.parametrize("member", list(InputType))
def test_every_value_type_in_upper_case(member: InputType) -> None:
    agent_input = AgentInput.model_validate({"name": "q", "type": member.value.upper()})

    assert agent_input.type is member


def test_unknown_value_type_names_the_field() -> None:
    with pytest.raises(ValidationError) as exc:
        AgentInput.model_validate({"name": "q", "type": "decimal"})

    error = error_of(exc)
    assert error["loc"] == ("type",)
    assert error["type"] == "enum"


def test_other_enums_stay_exact() -> None:
    with pytest.raises(ValidationError) as exc:
        AgentFile.model_validate({**MAIN_PY, "mime_type": "Python"})

    assert error_of(exc)["loc"] == ("mime_type",)


def test_enums_are_strings_on_the_wire() -> None:
    assert isinstance(AgentType.SECURE, str)
    assert str(AgentType.SECURE) == "secure"
    assert f"{MimeType.YAML}" == "yaml"
    assert str(EndpointStatus.DISABLED) == "disabled"


def test_missing_main_py_is_reported_on_files() -> None:
    files = [{"name": "helper.py", "content": "", "mime_type": "python"}]
    with pytest.raises(ValidationError) as exc:
        AgentGenerationResponse.model_validate(manifest(files=files))

    error = error_of(exc)
    assert error["loc"] == ("files",)
    assert error["type"] == "main_py_missing"
    assert "add the module that defines" in error["msg"]


def test_manifest_without_files_is_reported() -> None:
    data = manifest()
    del data["files"]
    with pytest.raises(ValidationError) as exc:
        AgentGenerationResponse.model_validate(data)

    assert error_of(exc)["type"] == "main_py_missing"


def test_main_py_with_wrong_mime_type_says_what_to_set() -> None:
    with pytest.raises(ValidationError) as exc:
        AgentGenerationResponse.model_validate(manifest(files=[{**MAIN_PY, "mime_type": "other"}]))

    error = error_of(exc)
    assert error["loc"] == ("files",)
    assert error["type"] == "main_py_not_python"
    assert error["msg"] == 'main.py has mime_type "other": set its mime_type to "python"'


def test_secure_agent_needs_a_queue() -> None:
    queues: list[dict[str, list[str]] | None] = [
        None,
        {"chrona_queues": []},
        {"chrona_queues": ["", "  "]},
    ]
    for queue in queues:
        data = manifest(agent_type="secure")
        if queue is not None:
            data["chrona_queue"] = queue
        with pytest.raises(ValidationError) as exc:
            AgentGenerationResponse.model_validate(data)

        error = error_of(exc)
        assert error["loc"] == ("chrona_queue",)
        assert error["type"] == "secure_agent_without_queue"
        assert "chrona_queues" in error["msg"]


def test_secure_agent_with_a_queue_is_valid() -> None:
    model = AgentGenerationResponse.model_validate(
        manifest(agent_type="secure", chrona_queue={"chrona_queues": ["workers"]})
    )

    assert model.agent_type is AgentType.SECURE
    assert model.chrona_queue == ChronaQueue(chrona_queues=["workers"])


@pytest.mark.parametrize("agent_type", [None, "cloud"])
def test_cloud_agent_needs_no_queue(agent_type: str | None) -> None:
    model = AgentGenerationResponse.model_validate(manifest(agent_type=agent_type))

    assert model.chrona_queue is None


def test_every_broken_rule_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as exc:
        AgentGenerationResponse.model_validate(
            {"agent_name": "", "agent_description": "d", "agent_type": "secure"}
        )

    locations = {error["loc"] for error in exc.value.errors()}
    assert locations == {("agent_name",), ("chrona_queue",), ("files",)}


def test_manifest_keeps_unknown_fields_at_every_level() -> None:
    data = manifest(
        generation_id="gen-1",
        agent_endpoints=[
            {
                "name": "ping",
                "module": "main",
                "description": "Ping",
                "rate_limit": {"per_minute": 5},
                "inputs": [{"input_ref": "q", "hint": "x"}],
            }
        ],
    )
    model = AgentGenerationResponse.model_validate(data)

    assert model.model_extra == {"generation_id": "gen-1"}
    assert model.agent_endpoints[0].model_extra == {"rate_limit": {"per_minute": 5}}
    wire = model.to_wire()
    assert wire["generation_id"] == "gen-1"
    assert wire["agent_endpoints"][0]["rate_limit"] == {"per_minute": 5}
    assert wire["agent_endpoints"][0]["inputs"][0]["hint"] == "x"


def test_creation_request_from_a_generated_manifest_keeps_the_queue() -> None:
    generated = AgentGenerationResponse.model_validate(
        manifest(agent_type="secure", chrona_queue={"chrona_queues": ["workers"]})
    )
    request = AgentCreationRequest.model_validate({**generated.to_wire(), "agent_alias": "ping"})

    assert request.agent_type is AgentType.SECURE
    assert request.to_wire()["chrona_queue"] == {"chrona_queues": ["workers"]}


def test_update_request_sends_only_what_was_set() -> None:
    update = AgentUpdateRequest(agent_description="New text")

    assert update.to_wire() == {"agent_description": "New text"}
    assert AgentUpdateRequest().to_wire() == {}


def test_update_request_sends_explicit_none() -> None:
    assert AgentUpdateRequest(agent_type=None).to_wire() == {"agent_type": None}


def test_update_request_keeps_and_sends_unknown_fields() -> None:
    update = AgentUpdateRequest.model_validate(
        {"agent_name": "Renamed", "auth_methods": [{"method_id": "bearer_token"}]}
    )

    assert update.model_extra == {"auth_methods": [{"method_id": "bearer_token"}]}
    assert update.to_wire() == {
        "agent_name": "Renamed",
        "auth_methods": [{"method_id": "bearer_token"}],
    }
    assert AgentUpdateRequest.model_validate({"only_extra": 1}).to_wire() == {"only_extra": 1}


def test_update_request_sends_nested_objects_whole() -> None:
    endpoint = AgentEndpoint(name="ping", module="main", description="Ping")
    wire = AgentUpdateRequest(agent_endpoints=[endpoint]).to_wire()

    assert wire == {
        "agent_endpoints": [
            {
                "name": "ping",
                "module": "main",
                "endpoint": "",
                "description": "Ping",
                "status": "enabled",
                "inputs": [],
                "outputs": [],
                "execution_config": None,
            }
        ]
    }


def test_update_request_validates_what_it_gets() -> None:
    with pytest.raises(ValidationError) as exc:
        AgentUpdateRequest.model_validate({"agent_type": "hybrid"})

    assert error_of(exc)["loc"] == ("agent_type",)


def test_number_fields_keep_int_and_float_apart() -> None:
    agent_input = AgentInput.model_validate(
        {"name": "n", "type": "float", "min_value": 1, "max_value": 2.5}
    )

    assert agent_input.to_wire()["min_value"] == 1
    assert isinstance(agent_input.min_value, int)
    assert isinstance(agent_input.max_value, float)


def test_names_of_viksa_ai_0_2_are_kept() -> None:
    assert AgentFileType is MimeType
    assert AgentQueue is ChronaQueue
