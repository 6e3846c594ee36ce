"""The namespace root: ``__path__`` extension and the half-removed-install check."""

from __future__ import annotations

import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import viksa_ai

RunPython = Callable[..., subprocess.CompletedProcess[str]]

PARTS = ("runtime", "models", "client", "devtools")
META_INIT = Path(viksa_ai.__file__)
PACKAGE_README = Path(__file__).resolve().parents[1] / "README.md"
ROOT_README = Path(__file__).resolve().parents[3] / "README.md"


def _install_meta(site: Path) -> None:
    """Lay out the meta-package's files in ``site`` as an installer would."""
    (site / "viksa_ai").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(META_INIT, site / "viksa_ai" / "__init__.py")
    (site / "viksa_ai" / "py.typed").touch()
    (site / f"viksa_ai-{viksa_ai.__version__}.dist-info").mkdir()


def _install_part(site: Path, part: str, *, version: str = viksa_ai.__version__) -> None:
    """Lay out a stand-in of one subpackage distribution in ``site``."""
    package = site / "viksa_ai" / part
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(f"WHERE = {str(site)!r}\n", encoding="utf-8")
    (package / "py.typed").touch()
    (site / f"viksa_{part}-{version}.dist-info").mkdir()


def _complete_site(site: Path) -> Path:
    _install_meta(site)
    for part in PARTS:
        _install_part(site, part)
    return site


def test_complete_install_imports_every_part(tmp_path: Path, run_python: RunPython) -> None:
    site = _complete_site(tmp_path / "site")
    done = run_python(
        "import json, viksa_ai\n"
        f"import {', '.join(f'viksa_ai.{part}' for part in PARTS)}\n"
        "print(json.dumps(viksa_ai.__path__))",
        sys_path=[site],
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [str(site / "viksa_ai")]


@pytest.mark.parametrize("leftover", ["package directory kept", "package directory gone"])
def test_half_removed_install_raises_import_error_naming_the_repair(
    tmp_path: Path, run_python: RunPython, leftover: str
) -> None:
    site = _complete_site(tmp_path / "site")
    for part in ("runtime", "client"):
        if leftover == "package directory kept":
            (site / "viksa_ai" / part / "__init__.py").unlink()
        else:
            shutil.rmtree(site / "viksa_ai" / part)
    done = run_python("import viksa_ai.models", sys_path=[site])
    assert done.returncode != 0
    last_lines = done.stderr.strip().splitlines()[-2:]
    assert last_lines[0].startswith("ImportError: ")
    assert "viksa_ai.runtime, viksa_ai.client" in last_lines[0]
    assert "pip issue 8509" in last_lines[0]
    assert last_lines[1].strip() == viksa_ai._REPAIR_COMMAND


@pytest.mark.parametrize(
    "runtime_state", ["not installed", "other version's metadata left", "installed elsewhere"]
)
def test_part_absent_without_its_metadata_is_no_error(
    tmp_path: Path, run_python: RunPython, runtime_state: str
) -> None:
    site = tmp_path / "site"
    _install_meta(site)
    for part in ("models", "client", "devtools"):
        _install_part(site, part)
    sys_path = [site]
    if runtime_state == "other version's metadata left":
        (site / "viksa_runtime-0.2.9.dist-info").mkdir()
    elif runtime_state == "installed elsewhere":
        sys_path.append(tmp_path / "other")
        _install_part(tmp_path / "other", "runtime")
    done = run_python(
        "import viksa_ai, viksa_ai.models\n"
        "try:\n"
        "    import viksa_ai.runtime\n"
        "except ModuleNotFoundError as error:\n"
        "    print('missing', error.name)\n"
        "else:\n"
        "    print('found', viksa_ai.runtime.WHERE)",
        sys_path=sys_path,
    )
    assert done.returncode == 0, done.stderr
    if runtime_state == "installed elsewhere":
        assert done.stdout.split() == ["found", str(tmp_path / "other")]
    else:
        assert done.stdout.split() == ["missing", "viksa_ai.runtime"]


def test_top_level_name_of_a_missing_part_names_the_distribution(
    tmp_path: Path, run_python: RunPython
) -> None:
    site = tmp_path / "site"
    _install_meta(site)
    _install_part(site, "runtime")
    done = run_python(
        "from viksa_ai import ViksaClient",
        sys_path=[site],
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        "ModuleNotFoundError: viksa_ai.ViksaClient comes from the viksa-client distribution, "
        f"which is not installed: pip install viksa-client=={viksa_ai.__version__}"
    )


@pytest.mark.parametrize(
    "statement", ["import viksa_ai.mcp_bridge", "from viksa_ai import mcp_bridge"]
)
def test_the_mcp_bridge_not_installed_names_the_extra(
    tmp_path: Path, run_python: RunPython, statement: str
) -> None:
    site = _complete_site(tmp_path / "site")
    done = run_python(statement, sys_path=[site])
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        "ModuleNotFoundError: viksa_ai.mcp_bridge comes from the viksa-mcp distribution, "
        'which is not installed: pip install "viksa-ai[mcp]"'
    )


def test_an_installed_mcp_bridge_imports(tmp_path: Path, run_python: RunPython) -> None:
    site = _complete_site(tmp_path / "site")
    (site / "viksa_ai" / "mcp_bridge").mkdir()
    (site / "viksa_ai" / "mcp_bridge" / "__init__.py").write_text("WHERE = 'here'\n")
    done = run_python(
        "from viksa_ai import mcp_bridge\nimport viksa_ai.mcp_bridge\nprint(mcp_bridge.WHERE)",
        sys_path=[site],
    )
    assert (done.returncode, done.stdout.strip()) == (0, "here"), done.stderr


def test_a_half_removed_mcp_bridge_is_repaired_with_its_distribution(
    tmp_path: Path, run_python: RunPython
) -> None:
    site = _complete_site(tmp_path / "site")
    # What pip leaves of viksa-mcp after removing viksa-ai 0.2.7 (which shipped mcp_bridge).
    (site / f"viksa_mcp-{viksa_ai.__version__}.dist-info").mkdir()
    done = run_python("import viksa_ai", sys_path=[site])
    last_lines = done.stderr.strip().splitlines()[-2:]
    assert "the files of viksa_ai.mcp_bridge are missing" in last_lines[0]
    assert last_lines[1].strip() == (
        f"{viksa_ai._REPAIR_COMMAND} viksa-mcp=={viksa_ai.__version__}"
    )


def test_top_level_name_of_a_part_missing_a_dependency_keeps_the_real_error(
    tmp_path: Path, run_python: RunPython
) -> None:
    site = tmp_path / "site"
    _install_meta(site)
    _install_part(site, "client")
    (site / "viksa_ai" / "client" / "__init__.py").write_text(
        "import httpx_not_installed_here\n", encoding="utf-8"
    )
    done = run_python(
        "try:\n"
        "    from viksa_ai import ViksaClient\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error.name)",
        sys_path=[site],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["httpx_not_installed_here"]


def test_portions_on_separate_path_entries_are_joined(
    tmp_path: Path, run_python: RunPython
) -> None:
    # The editable workspace: each distribution's src/ is its own sys.path entry.
    roots = {name: tmp_path / name / "src" for name in ("meta", *PARTS)}
    _install_meta(roots["meta"])
    for part in PARTS:
        _install_part(roots[part], part)
    entries = [roots[part] for part in reversed(PARTS)] + [roots["meta"]]
    modules = ", ".join(f"viksa_ai.{part}" for part in PARTS)
    done = run_python(
        f"import json, viksa_ai, {modules}\n"
        f"where = [module.WHERE for module in ({modules})]\n"
        "print(json.dumps({'path': viksa_ai.__path__, 'where': where}))",
        sys_path=entries,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["where"] == [str(roots[part]) for part in PARTS]
    assert answer["path"] == [str(roots["meta"] / "viksa_ai")] + [
        str(entry / "viksa_ai") for entry in entries[:-1]
    ]


def test_import_check_costs_one_stat_per_path_entry_and_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _complete_site(tmp_path / "site")
    (tmp_path / "elsewhere").mkdir()
    search = [str(site), str(tmp_path / "elsewhere"), ""]
    init = site / "viksa_ai" / "__init__.py"
    code = compile(init.read_text(encoding="utf-8"), str(init), "exec")
    namespace: dict[str, Any] = {
        "__name__": "viksa_ai",
        "__file__": str(init),
        "__path__": [str(site / "viksa_ai")],
    }
    stats: list[str] = []
    real_stat = os.stat

    def counting_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        stats.append(os.fspath(path))
        return real_stat(path, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(sys, "path", search)
        patch.setattr(os, "stat", counting_stat)
        exec(code, namespace)
    # "" and the package's own entry cost nothing, "elsewhere" one stat, each part one;
    # the optional part, not installed, one more for its metadata.
    assert stats == [str(tmp_path / "elsewhere" / "viksa_ai")] + [
        str(site / "viksa_ai" / part / "__init__.py") for part in [*PARTS, "mcp_bridge"]
    ] + [str(site / f"viksa_mcp-{viksa_ai.__version__}.dist-info")]
    assert namespace["__path__"] == [str(site / "viksa_ai")]


# --- _extend_path against pkgutil.extend_path -------------------------------------------


@pytest.fixture(scope="module")
def path_entries(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """A folder of every kind of sys.path entry, and the entries (some relative to it)."""
    root = tmp_path_factory.mktemp("entries")
    (root / "regular" / "viksa_ai").mkdir(parents=True)
    (root / "regular" / "viksa_ai" / "__init__.py").touch()
    (root / "portion" / "viksa_ai" / "runtime").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "module").mkdir()
    (root / "module" / "viksa_ai.py").touch()
    (root / "plain_file").mkdir()
    (root / "plain_file" / "viksa_ai").touch()
    with zipfile.ZipFile(root / "archive.zip", "w") as archive:
        archive.writestr("viksa_ai/runtime/__init__.py", "")
    entries: list[Any] = [
        *(str(root / name) for name in ("regular", "portion", "empty", "module", "plain_file")),
        str(root / "archive.zip"),
        str(root / "missing"),
        "portion",  # relative to the working directory
        "",
        b"not-a-str",
    ]
    return root, entries


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_extend_path_matches_pkgutil(
    path_entries: tuple[Path, list[Any]], data: st.DataObject
) -> None:
    root, pool = path_entries
    search = data.draw(st.lists(st.sampled_from(pool), max_size=8), label="sys.path")
    start = [str(root / "regular" / "viksa_ai")]
    saved_path, saved_cache, saved_cwd = sys.path[:], dict(sys.path_importer_cache), os.getcwd()
    os.chdir(root)
    try:
        sys.path[:] = search
        ours = viksa_ai._extend_path(list(start), "viksa_ai")
        theirs = pkgutil.extend_path(list(start), "viksa_ai")
    finally:
        sys.path[:] = saved_path
        sys.path_importer_cache.clear()
        sys.path_importer_cache.update(saved_cache)
        os.chdir(saved_cwd)
    assert [os.path.normpath(p) for p in ours] == [os.path.normpath(p) for p in theirs]


@pytest.mark.parametrize("readme", [PACKAGE_README, ROOT_README], ids=["package", "root"])
def test_readme_says_how_to_upgrade_and_repair(readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    assert re.search(r"^#+ Upgrading from viksa-ai 0\.2\.x$", text, flags=re.MULTILINE)
    assert "pip uninstall -y viksa-ai\npip install viksa-ai\n" in text
    assert viksa_ai._REPAIR_COMMAND in text
