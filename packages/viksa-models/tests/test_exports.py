"""Every public name imports from where the README says, and imports stay cheap."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import viksa_ai.models

# The README's "Data models" table and pulse example, plus the types the brief names.
README_NAMES: dict[str, list[str]] = {
    "viksa_ai.models.agent": [
        "AgentCreationRequest",
        "AgentUpdateRequest",
        "AgentGenerationResponse",
        "AgentEndpoint",
        "AgentInput",
        "AgentOutput",
        "EndpointInputRef",
        "ExecutionConfig",
        "AgentFile",
        "ChronaQueue",
        "AgentType",
        "InputType",
        "MimeType",
        "EndpointStatus",
    ],
    "viksa_ai.models.auth": [
        "LoginRequest",
        "RefreshRequest",
        "TokenResponse",
        "UserResponse",
        "SwitchOrgRequest",
        "SwitchProjectRequest",
        "ApiKeyRequest",
        "KeyValidationRequest",
        "KeyValidationResponse",
    ],
    "viksa_ai.models.a2a": ["A2AEnvelope", "A2AResponse", "A2AStatus", "A2A_PROTOCOL_VERSION"],
    "viksa_ai.models.executor": [
        "AgentType",
        "EndpointExecutionRequest",
        "EndpointExecutionResponse",
        "AgentInvokeRequest",
        "AgentInvokeResponse",
        "ExecutionEnvelope",
    ],
}


@pytest.mark.parametrize("module_name", sorted(README_NAMES))
def test_readme_names_import_from_their_module(module_name: str) -> None:
    module = importlib.import_module(module_name)

    for name in README_NAMES[module_name]:
        assert name in module.__all__, name
        assert getattr(module, name) is not None


@pytest.mark.parametrize("module_name", sorted(README_NAMES))
def test_all_lists_only_existing_names(module_name: str) -> None:
    module = importlib.import_module(module_name)

    for name in module.__all__:
        assert hasattr(module, name), name


def test_package_reexports_every_public_name() -> None:
    module_names: set[str] = set()
    for module_name in README_NAMES:
        module = importlib.import_module(module_name)
        module_names.update(module.__all__)
        for name in module.__all__:
            assert getattr(viksa_ai.models, name) is getattr(module, name), name

    assert set(viksa_ai.models.__all__) == module_names | {"ExecutorAgentType"}
    assert viksa_ai.models.ExecutorAgentType is viksa_ai.models.AgentType
    assert set(dir(viksa_ai.models)) >= set(viksa_ai.models.__all__)


def test_type_checking_imports_match_the_lazy_table() -> None:
    # What type checkers see must be what __getattr__ hands out at run time.
    tree = ast.parse(Path(viksa_ai.models.__file__).read_text(encoding="utf-8"))
    imported: dict[str, tuple[str, str]] = {}
    for block in tree.body:
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING":
            for statement in block.body:
                assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
                assert statement.module is not None
                for alias in statement.names:
                    imported[alias.asname or alias.name] = (statement.module, alias.name)

    assert imported == viksa_ai.models._EXPORTS
    assert sorted(viksa_ai.models.__all__) == sorted(imported)


def test_package_unknown_name_is_an_attribute_error() -> None:
    # The ignore is part of the test: mypy --strict reports it unused if the lazy
    # __getattr__ becomes visible to it again and lets a misspelt name through as Any.
    with pytest.raises(AttributeError, match="NoSuchModel"):
        _ = viksa_ai.models.NoSuchModel  # type: ignore[attr-defined]


def _run_isolated(code: str) -> str:
    """Run ``code`` in a fresh interpreter (this process has pydantic loaded already)."""
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return completed.stdout.strip()


def test_importing_the_package_does_not_import_pydantic() -> None:
    output = _run_isolated(
        """
        import sys
        import viksa_ai.models
        print("pydantic" in sys.modules)
        """
    )

    assert output == "False"


def test_the_manifest_enums_import_no_pydantic_and_are_the_models_own() -> None:
    output = _run_isolated(
        """
        import sys
        from viksa_ai.models import AgentType, EndpointStatus, InputType, MimeType
        before = "pydantic" in sys.modules
        import viksa_ai.models.agent as agent
        same = (agent.AgentType, agent.EndpointStatus, agent.InputType, agent.MimeType) == (
            AgentType, EndpointStatus, InputType, MimeType
        )
        print(before, same)
        """
    )

    assert output == "False True"


def test_importing_the_models_builds_no_schema() -> None:
    output = _run_isolated(
        """
        import viksa_ai.models as models
        from pydantic import BaseModel
        built = [
            name for name in models.__all__
            if isinstance(getattr(models, name), type)
            and issubclass(getattr(models, name), BaseModel)
            and getattr(models, name).__pydantic_complete__
        ]
        print(built)
        """
    )

    assert output == "[]"
