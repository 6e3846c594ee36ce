"""One version for all six distributions, pinned exactly between them."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import viksa_ai

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the workspace runs 3.11+, tomli is only a fallback
    tomllib = pytest.importorskip("tomli")

PACKAGES_DIR = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = {
    "viksa-ai",
    "viksa-runtime",
    "viksa-models",
    "viksa-client",
    "viksa-devtools",
    "viksa-mcp",
}
# Installed by an extra of the meta-package, not by the meta-package itself.
EXTRA_DISTRIBUTIONS = {"viksa-mcp": "mcp"}
# name, optional [extras], the rest (specifiers and marker)
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def _projects() -> dict[str, dict[str, Any]]:
    projects: dict[str, dict[str, Any]] = {}
    for pyproject in sorted(PACKAGES_DIR.glob("*/pyproject.toml")):
        project: dict[str, Any] = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        projects[project["name"]] = project
    return projects


def _requirements(project: dict[str, Any]) -> list[str]:
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    return [*project.get("dependencies", []), *(req for reqs in optional.values() for req in reqs)]


def _split(requirement: str) -> tuple[str, str]:
    """The normalized name of a requirement and what follows its extras."""
    match = _REQUIREMENT.match(requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), match.group(3).strip()


def test_the_workspace_holds_the_six_distributions() -> None:
    assert set(_projects()) == DISTRIBUTIONS


def test_every_distribution_has_the_meta_version() -> None:
    versions = {name: project["version"] for name, project in _projects().items()}
    assert versions == dict.fromkeys(DISTRIBUTIONS, viksa_ai.__version__)


def test_installed_metadata_has_the_meta_version() -> None:
    assert metadata.version("viksa-ai") == viksa_ai.__version__


def test_sibling_requirements_pin_exactly_the_one_version() -> None:
    pinned = f"=={viksa_ai.__version__}"
    for name, project in _projects().items():
        for requirement in _requirements(project):
            required, rest = _split(requirement)
            if required in DISTRIBUTIONS:
                assert rest == pinned, f"{name}: {requirement!r} must pin {required}{pinned}"


def test_meta_requires_every_part() -> None:
    meta = _projects()["viksa-ai"]
    required = {_split(req)[0] for req in meta["dependencies"]}
    assert required >= DISTRIBUTIONS - {"viksa-ai", *EXTRA_DISTRIBUTIONS}
    for dist, extra in EXTRA_DISTRIBUTIONS.items():
        assert dist not in required
        assert meta["optional-dependencies"][extra] == [f"{dist}=={viksa_ai.__version__}"]


def test_repair_command_names_every_distribution_at_the_version() -> None:
    words = viksa_ai._REPAIR_COMMAND.split()
    assert words[:4] == ["pip", "install", "--force-reinstall", "--no-deps"]
    assert set(words[4:]) == {
        f"{name}=={viksa_ai.__version__}" for name in DISTRIBUTIONS - set(EXTRA_DISTRIBUTIONS)
    }
