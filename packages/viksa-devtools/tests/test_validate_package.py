"""The validator's package surface: exports, import cost, and the catalogue of issue codes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import viksa_ai.devtools as devtools
import viksa_ai.devtools.runner as runner
from viksa_ai.devtools import ISSUE_CODES

PACKAGE = Path(__file__).resolve().parents[1]
SOURCES = PACKAGE / "src" / "viksa_ai" / "devtools"
CODE = re.compile(r"\bVX\d{3}\b")


def test_readme_names_are_exported() -> None:
    from viksa_ai.devtools import (
        AgentValidationError,
        validate_a2a_envelope,
        validate_agent_manifest,
    )

    assert issubclass(AgentValidationError, Exception)
    assert callable(validate_agent_manifest)
    assert callable(validate_a2a_envelope)
    for name in devtools.__all__:
        assert getattr(devtools, name) is not None
    assert set(devtools.__all__) <= set(dir(devtools))


def test_the_validate_subpackage_exports_what_devtools_re_exports() -> None:
    import viksa_ai.devtools.validate as validate

    assert set(validate.__all__) <= set(devtools.__all__)
    assert set(validate.__all__) <= set(dir(validate))
    for name in validate.__all__:
        assert getattr(validate, name) is getattr(devtools, name)
    with pytest.raises(AttributeError, match="no_such_name"):
        validate.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_the_validator_modules_live_in_their_subpackage() -> None:
    # The top level holds the four parts and the public 0.2 paths, not the validator's
    # private modules.
    moved = {"_issues.py", "_validate.py", "_parse.py", "_code_rules.py", "_manifest.py"}
    assert moved <= {path.name for path in (SOURCES / "validate").iterdir()}
    assert not moved & {path.name for path in SOURCES.iterdir()}
    assert {"validate", "runner", "platform", "cli.py"} <= {path.name for path in SOURCES.iterdir()}


def test_unknown_attribute_is_an_attribute_error() -> None:
    # The ignores are part of the test: mypy --strict reports them unused if the lazy
    # __getattr__ becomes visible to it again and lets a misspelt name through as Any.
    with pytest.raises(AttributeError, match="no_such_name"):
        devtools.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(AttributeError, match="no_such_name"):
        runner.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_importing_the_package_pulls_neither_httpx_nor_pydantic() -> None:
    probe = (
        "import sys, viksa_ai.devtools, viksa_ai.devtools.validate\n"
        "print(sorted(m for m in ('httpx', 'pydantic') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"


def _codes_in(paths: list[Path]) -> set[str]:
    return {code for path in paths for code in CODE.findall(path.read_text(encoding="utf-8"))}


def test_every_code_used_is_catalogued() -> None:
    validator_modules = [
        path for path in (SOURCES / "validate").glob("_*.py") if path.name != "_codes.py"
    ]
    used = _codes_in(validator_modules)
    assert used, "no issue code found in the sources"
    assert used <= set(ISSUE_CODES), sorted(used - set(ISSUE_CODES))


def test_every_code_is_documented_in_the_readme() -> None:
    readme = (PACKAGE / "README.md").read_text(encoding="utf-8")
    missing = sorted(set(ISSUE_CODES) - set(CODE.findall(readme)))
    assert missing == []


def test_codes_are_unique_and_well_formed() -> None:
    assert all(CODE.fullmatch(code) for code in ISSUE_CODES)
    assert list(ISSUE_CODES) == sorted(ISSUE_CODES)
    assert all(meaning and meaning == meaning.strip() for meaning in ISSUE_CODES.values())
