"""The viksa-ai 0.2.x model behaviour 0.3 keeps, as the 0.2.1 and 0.2.7 wheels defined it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

import viksa_ai.models
from viksa_ai.models.a2a import A2AResponse, A2AStatus
from viksa_ai.models.agent import (
    AgentGenerationResponse,
    BaseAgentData,
    ChronaQueue,
    InputType,
)

MAIN = {"name": "main.py", "content": "", "mime_type": "python"}


def test_a2a_response_status_defaults_to_ok() -> None:
    response = A2AResponse(payload={"x": 1})

    assert response.status is A2AStatus.OK
    assert A2AResponse.model_validate({}).status is A2AStatus.OK
    assert response.to_wire()["status"] == "ok"


@pytest.mark.parametrize(
    ("member", "python_type"),
    [
        (InputType.STRING, str),
        (InputType.INTEGER, int),
        (InputType.FLOAT, float),
        (InputType.BOOLEAN, bool),
        (InputType.DICT, dict),
        (InputType.LIST, list),
    ],
)
def test_input_type_python_type(member: InputType, python_type: type) -> None:
    assert member.python_type is python_type


# 0.2 semantics: an isinstance check against python_type, nothing more.
@pytest.mark.parametrize(
    ("member", "value", "valid"),
    [
        (InputType.STRING, "x", True),
        (InputType.STRING, 1, False),
        (InputType.INTEGER, 3, True),
        (InputType.INTEGER, True, True),  # bool is an int subclass, as in 0.2
        (InputType.INTEGER, 3.0, False),
        (InputType.FLOAT, 1.5, True),
        (InputType.FLOAT, 1, False),
        (InputType.BOOLEAN, False, True),
        (InputType.BOOLEAN, 0, False),
        (InputType.DICT, {"a": 1}, True),
        (InputType.DICT, [("a", 1)], False),
        (InputType.LIST, [1], True),
        (InputType.LIST, (1,), False),
        (InputType.LIST, None, False),
    ],
)
def test_input_type_validate_value(member: InputType, value: Any, valid: bool) -> None:
    assert member.validate_value(value) is valid


def test_input_type_members_parsed_from_any_case_keep_the_helpers() -> None:
    assert InputType("Integer").python_type is int
    assert InputType("DICT").validate_value({})


def test_base_agent_data_is_the_manifest_without_the_generation_rules() -> None:
    data = BaseAgentData.model_validate(
        {
            "agent_name": "flights",
            "agent_description": "Flight search",
            "agent_type": "secure",
            "extra_field": 1,
        }
    )

    # No main.py and a secure agent without a queue: only AgentGenerationResponse checks.
    assert data.files == []
    assert data.chrona_queue is None
    assert data.to_wire()["extra_field"] == 1
    with pytest.raises(ValidationError, match="agent_name"):
        BaseAgentData(agent_name="", agent_description="d")


def test_agent_generation_response_is_a_base_agent_data_with_its_rules() -> None:
    assert issubclass(AgentGenerationResponse, BaseAgentData)
    assert list(AgentGenerationResponse.model_fields) == list(BaseAgentData.model_fields)

    response = AgentGenerationResponse.model_validate(
        {
            "agent_name": "flights",
            "agent_description": "Flight search",
            "agent_type": "secure",
            "chrona_queue": ChronaQueue(chrona_queues=["q"]),
            "files": [MAIN],
        }
    )
    assert isinstance(response, BaseAgentData)
    with pytest.raises(ValidationError, match=r"must include \"main\.py\""):
        AgentGenerationResponse(agent_name="a", agent_description="d")
    with pytest.raises(ValidationError, match="a secure agent needs at least one queue"):
        AgentGenerationResponse.model_validate(
            {"agent_name": "a", "agent_description": "d", "agent_type": "secure", "files": [MAIN]}
        )


def test_base_agent_data_is_exported_from_the_package() -> None:
    assert viksa_ai.models.BaseAgentData is BaseAgentData
    assert "BaseAgentData" in viksa_ai.models.__all__
