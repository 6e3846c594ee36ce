"""Agent files the worker cannot lay out as written (red-team pass): the validator
reports them, and the runner refuses them with an error rather than a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools import check_agent_manifest
from viksa_ai.devtools.runner import AgentLoadError, load_agent
from viksa_ai.devtools.runner._agent import write_working_dir

MAIN = """\
from ViksaAI import mcp_endpoint


@mcp_endpoint(description="Ping")
async def ping(payload):
    return {}
"""


def agent(*names: str) -> dict[str, Any]:
    """A valid agent of one endpoint, with extra (empty) files named ``names``."""
    files = [{"name": "main.py", "content": MAIN, "mime_type": "python"}]
    files += [{"name": name, "content": "", "mime_type": "other"} for name in names]
    return {
        "agent_name": "Ping",
        "agent_description": "Pings",
        "files": files,
        "agent_endpoints": [{"name": "ping", "module": "main", "description": "d"}],
    }


def found(*names: str) -> list[tuple[str, str, str]]:
    report = check_agent_manifest(agent(*names))
    return [(issue.code, issue.severity, issue.location) for issue in report.issues]


@pytest.mark.parametrize(
    ("names", "where"),
    [
        (("data", "data/table.csv"), "files[2].name"),
        (("data/table.csv", "data"), "files[1].name"),
        (("main.py/extra.txt",), "files[1].name"),
        (("a\\b", "a/b/c"), "files[2].name"),
        (("ViksaAI.py/x",), "files[1].name"),  # the runtime the worker writes is a file
        (("lib/", "lib/x"), "files[1].name"),  # reported once, as a directory name
    ],
)
def test_a_file_inside_a_folder_that_is_a_file(names: tuple[str, ...], where: str) -> None:
    assert [issue for issue in found(*names) if issue[0] == "VX117"] == [("VX117", "error", where)]


def test_the_clash_names_the_file_that_is_in_the_way() -> None:
    [issue] = check_agent_manifest(agent("data", "data/table.csv")).issues
    assert issue.message == (
        "file name 'data/table.csv' needs 'data' to be a folder, but files[1] is a file "
        "named 'data': the worker cannot write both, so rename one"
    )


@pytest.mark.parametrize(
    "names", [("data/a.csv", "data/b.csv"), ("data/x/a", "data/y"), ("datab", "data/b")]
)
def test_files_sharing_folders_are_fine(names: tuple[str, ...]) -> None:
    assert found(*names) == []


def test_a_shipped_runtime_file_is_replaced_a_warning() -> None:
    assert found("ViksaAI.py") == [("VX118", "warning", "files[1].name")]
    assert found("./ViksaAI.py") == [("VX118", "warning", "files[1].name")]
    assert found("lib/ViksaAI.py") == []  # another folder: not the injected module


def test_the_runner_refuses_a_folder_named_like_the_runtime(tmp_path: Path) -> None:
    loaded = load_agent(agent("ViksaAI.py/x"))
    with pytest.raises(AgentLoadError, match="no file of the agent may be inside a folder"):
        write_working_dir(loaded, tmp_path, "# runtime\n")


@pytest.mark.parametrize(
    "name", ["ViksaAI/__init__.py", "./ViksaAI/__init__.py", "ViksaAI\\__init__.py", "ViksaAI.so"]
)
def test_a_package_or_extension_named_like_the_runtime_is_an_error(name: str) -> None:
    # Python's import finds a package ViksaAI/ (or an extension module) before the
    # ViksaAI.py the worker writes: the agent would run without the platform's runtime.
    assert found(name) == [("VX119", "error", "files[1].name")]


@pytest.mark.parametrize("name", ["ViksaAI/helpers.py", "lib/ViksaAI/__init__.py", "ViksaAI.txt"])
def test_files_that_leave_the_runtime_found_first_are_fine(name: str) -> None:
    assert found(name) == []


def test_the_runner_refuses_a_package_that_would_shadow_the_runtime() -> None:
    with pytest.raises(AgentLoadError, match="ViksaAI") as caught:
        load_agent(agent("ViksaAI/__init__.py"))
    assert "rename" in str(caught.value)


def test_main_py_skips_the_name_checks_that_would_pass_it() -> None:
    # file_names does not check "main.py" (every agent has it): what the checks say.
    from viksa_ai.devtools.validate._context import MAIN_FILE
    from viksa_ai.devtools.validate._file_names import (
        RUNTIME_FILE,
        file_name_problem,
        normalized_file_name,
        runtime_shadowing,
    )

    assert file_name_problem(MAIN_FILE) is None
    assert runtime_shadowing(MAIN_FILE) is None
    assert normalized_file_name(MAIN_FILE) == MAIN_FILE != RUNTIME_FILE
    assert "/" not in MAIN_FILE
    assert "\\" not in MAIN_FILE
