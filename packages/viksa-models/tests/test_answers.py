"""The answer types: plain typing (no pydantic at import), readable by TypeAdapter."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import TypeAdapter, ValidationError

from viksa_ai.models import answers
from viksa_ai.models.agent import READ_AS_ANSWERED, AgentGenerationResponse

_DRAFT = {
    "agent_name": "draft",
    "agent_description": "a draft without main.py",
    "agent_type": "secure",
    "files": [{"name": "helper.py", "content": "", "mime_type": "python"}],
    "surprise": {"kept": True},
}


def test_importing_the_answer_types_does_not_import_pydantic() -> None:
    code = "import sys, viksa_ai.models.answers; print('pydantic' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("name", answers.__all__)
def test_every_answer_type_builds_a_validator(name: str) -> None:
    TypeAdapter(getattr(answers, name))


def test_unknown_keys_pass_and_missing_required_keys_do_not() -> None:
    page = TypeAdapter(answers.AgentPage)
    agent = {"id": "agt_1", "agent_name": "A", "agent_alias": "a", "new_field": [1]}
    page.validate_python({"agents": [agent], "total": 1, "next": "x"}, strict=True)
    with pytest.raises(ValidationError):
        page.validate_python({"agents": [{"agent_name": "A"}]}, strict=True)


def test_json_value_takes_any_json_and_nothing_else() -> None:
    value = TypeAdapter(answers.JSONValue)
    assert value.validate_python({"a": [1, 2.5, None, True, {"b": "c"}]}, strict=True)
    with pytest.raises(ValidationError):
        value.validate_python({"a": object()}, strict=True)


def test_a_draft_breaking_the_manifest_rules_reads_as_answered() -> None:
    with pytest.raises(ValidationError):
        AgentGenerationResponse.model_validate(_DRAFT)
    draft = AgentGenerationResponse.model_validate(_DRAFT, context=READ_AS_ANSWERED)
    assert [f.name for f in draft.files] == ["helper.py"]
    assert draft.model_extra == {"surprise": {"kept": True}}


def test_reading_as_answered_still_checks_field_types() -> None:
    with pytest.raises(ValidationError):
        AgentGenerationResponse.model_validate({**_DRAFT, "files": 3}, context=READ_AS_ANSWERED)
