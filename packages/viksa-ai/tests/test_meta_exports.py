"""The top-level names of ``viksa_ai``: lazy, complete, and cheap to import."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import viksa_ai

RunPython = Callable[..., subprocess.CompletedProcess[str]]

# Prints the modules that importing the statement's target added to sys.modules.
_ADDED_MODULES = """
import json, sys
before = set(sys.modules)
{statement}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _added_modules(run_python: RunPython, statement: str) -> list[str]:
    done = run_python(_ADDED_MODULES.format(statement=statement))
    assert done.returncode == 0, done.stderr
    added: list[str] = json.loads(done.stdout)
    return added


def test_importing_the_root_imports_no_other_module(run_python: RunPython) -> None:
    assert _added_modules(run_python, "import viksa_ai") == ["viksa_ai"]


@pytest.mark.parametrize("part", ["runtime", "models", "client", "devtools"])
def test_importing_a_part_imports_no_sibling(run_python: RunPython, part: str) -> None:
    added = _added_modules(run_python, f"import viksa_ai.{part}")
    siblings = {"runtime", "models", "client", "devtools"} - {part}
    # The documented flow: client uses models, devtools uses models and runtime.
    allowed = {"client": {"models"}, "devtools": {"models", "runtime"}}.get(part, set())
    loaded = {name.split(".")[1] for name in added if name.startswith("viksa_ai.")}
    assert loaded & siblings <= allowed


def test_runtime_import_pulls_no_third_party_module(run_python: RunPython) -> None:
    # Third-party: loaded from a file, outside the standard library and viksa_ai.
    # (A module object built at run time, with no file, can only come from our code.)
    done = run_python(
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "import viksa_ai.runtime\n"
        "added = sorted(set(sys.modules) - before)\n"
        "print(json.dumps({name: getattr(sys.modules[name], '__file__', None) is not None"
        " for name in added}))"
    )
    assert done.returncode == 0, done.stderr
    from_files: dict[str, bool] = json.loads(done.stdout)
    third_party = [
        name
        for name, has_file in from_files.items()
        if has_file and name.partition(".")[0] not in {*sys.stdlib_module_names, "viksa_ai"}
    ]
    assert third_party == []
    assert not any(name.startswith(("viksa_ai.client", "viksa_ai.models")) for name in from_files)


def test_every_export_resolves_to_its_source_object() -> None:
    for name, module_name in viksa_ai._EXPORTS.items():
        source = importlib.import_module(module_name)
        assert getattr(viksa_ai, name) is getattr(source, name), name


def test_readme_imports_work() -> None:
    from viksa_ai import ViksaClient, ViksaNotFoundError, ViksaValidationError
    from viksa_ai.client import ViksaApiError

    assert issubclass(ViksaNotFoundError, ViksaApiError)
    assert issubclass(ViksaValidationError, ViksaApiError)
    assert ViksaClient.__module__.startswith("viksa_ai.client")


def test_all_lists_the_exports_and_the_version() -> None:
    assert sorted(viksa_ai.__all__) == sorted([*viksa_ai._EXPORTS, "__version__"])
    assert len(set(viksa_ai.__all__)) == len(viksa_ai.__all__)


def test_type_checking_imports_match_the_export_table() -> None:
    tree = ast.parse(Path(viksa_ai.__file__).read_text(encoding="utf-8"))
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
        ):
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.dump(statement)
                assert statement.module is not None
                for alias in statement.names:
                    imported[alias.asname or alias.name] = statement.module
    assert imported == viksa_ai._EXPORTS


def test_dir_lists_lazy_names_before_first_use(run_python: RunPython) -> None:
    done = run_python(
        "import json, viksa_ai\n"
        "names = dir(viksa_ai)\n"
        "print(json.dumps({'names': names, 'loaded': 'ViksaClient' in vars(viksa_ai)}))"
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(viksa_ai.__all__) <= set(answer["names"])
    assert answer["names"] == sorted(answer["names"])
    assert answer["loaded"] is False


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'viksa_ai' has no attribute 'Nope'") as caught:
        getattr(viksa_ai, "Nope")  # noqa: B009 - the attribute must not exist statically
    assert caught.value.name == "Nope"


def test_from_import_of_unknown_name_is_an_import_error() -> None:
    with pytest.raises(ImportError, match="cannot import name 'Nope'"):
        exec("from viksa_ai import Nope", {})


def test_resolved_name_is_cached_in_the_module(run_python: RunPython) -> None:
    done = run_python(
        "import viksa_ai\nfirst = viksa_ai.ViksaAuth\nprint(vars(viksa_ai)['ViksaAuth'] is first)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
