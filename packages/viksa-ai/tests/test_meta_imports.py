"""Every distribution declares what its code imports.

A module imported by a distribution's source but reaching it only through another
dependency works until that dependency drops it: viksa-devtools and viksa-mcp imported
pydantic through viksa-models. Each third-party module (and each sibling ``viksa_ai``
portion) imported anywhere in a distribution's ``src`` must come from a distribution
named in its ``dependencies`` or one of its extras.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the workspace runs 3.11+, tomli is only a fallback
    tomllib = pytest.importorskip("tomli")

PACKAGES_DIR = Path(__file__).resolve().parents[2]
_FOLDERS = sorted(path.parent.name for path in PACKAGES_DIR.glob("*/pyproject.toml"))

# The viksa_ai portion each distribution installs (the meta-package owns the root).
_PORTIONS = {
    "runtime": "viksa-runtime",
    "models": "viksa-models",
    "client": "viksa-client",
    "devtools": "viksa-devtools",
    "mcp_bridge": "viksa-mcp",
}
# What a declared distribution always brings, so declaring it declares them: every
# pydantic 2 release requires typing-extensions and pins pydantic-core exactly (the
# house plan has viksa-models depend on pydantic alone).
_PARTS_OF = {"pydantic": ("pydantic-core", "typing-extensions")}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(project: dict[str, Any]) -> set[str]:
    requirements: list[str] = list(project.get("dependencies", []))
    for listed in project.get("optional-dependencies", {}).values():
        requirements += listed
    names = {_normalized(match[1]) for item in requirements if (match := _NAME.match(item))}
    names |= {part for name in names for part in _PARTS_OF.get(name, ())}
    return names | {_normalized(project["name"])}


# Imported by code that only runs where the module is: the pytest plugin is loaded by
# pytest itself.
_PROVIDED_BY_THE_HOST = {"viksa-devtools": {"pytest"}}
_OPTIONAL_GUARDS = {"ImportError", "ModuleNotFoundError"}


class _Imports(ast.NodeVisitor):
    """Absolute imports, except those in a ``try`` that handles their absence."""

    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_Try(self, node: ast.Try) -> None:
        caught = {
            name.id
            for handler in node.handlers
            for name in ast.walk(handler.type or ast.Name("BaseException"))
            if isinstance(name, ast.Name)
        }
        if not caught & _OPTIONAL_GUARDS:
            self.generic_visit(node)
            return
        for child in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(child)  # only the guarded body is optional

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update(alias.name for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.found.add(node.module)


def _imports(source: Path) -> set[str]:
    """Dotted names of the modules every module under ``source`` needs to import."""
    visitor = _Imports()
    for path in source.rglob("*.py"):
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
    return visitor.found


def _providers(module: str, owners: Mapping[str, list[str]]) -> set[str]:
    """The distributions that may provide ``module``; empty for the standard library."""
    top, _, rest = module.partition(".")
    if top in sys.stdlib_module_names or top == "__future__":
        return set()
    if top == "viksa_ai":
        portion = rest.partition(".")[0]
        return {_PORTIONS.get(portion, "viksa-ai")}
    return {_normalized(name) for name in owners.get(top, [f"<nothing installs {top}>"])}


@pytest.mark.parametrize("folder", _FOLDERS)
def test_every_imported_distribution_is_declared(folder: str) -> None:
    pyproject = (PACKAGES_DIR / folder / "pyproject.toml").read_text(encoding="utf-8")
    project: dict[str, Any] = tomllib.loads(pyproject)["project"]
    distribution = project["name"]
    source = PACKAGES_DIR / folder / "src"
    owners = metadata.packages_distributions()
    declared = _declared(project) | _PROVIDED_BY_THE_HOST.get(distribution, set())
    missing = {
        module: sorted(providers)
        for module in sorted(_imports(source))
        if (providers := _providers(module, owners)) and not providers & declared
    }
    assert not missing, (
        f"{distribution} imports modules from distributions its pyproject.toml does not "
        f"declare (add them to dependencies or an extra): {missing}"
    )
