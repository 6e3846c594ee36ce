"""The pre-commit hook and the GitHub Action at the repository root, run as they are."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BROKEN_MAIN = """\
from viksa_ai.runtime import mcp_endpoint


@mcp_endpoint(description="Greet someone by name")
def greet(payload):
    return {"greeting": payload["name"], "excited": payload.get("excited")}
"""

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shells")


def env() -> dict[str, str]:
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with agents ``agents/good`` and ``agents/broken`` and other files."""
    for name in ("good", "broken"):
        subprocess.run(
            ["viksa", "init", f"agents/{name}"],
            cwd=tmp_path,
            env=env(),
            check=True,
            capture_output=True,
        )
    (tmp_path / "agents" / "broken" / "main.py").write_text(BROKEN_MAIN)
    (tmp_path / "tools.py").write_text("print('not an agent')\n")
    return tmp_path


def hook() -> dict[str, Any]:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (found,) = [h for h in hooks if h["id"] == "viksa-validate"]
    return dict(found)


def run_hook(project: Path, changed: list[str]) -> subprocess.CompletedProcess[str]:
    """What pre-commit runs: the entry, with the changed files its ``files`` selects."""
    spec = hook()
    selected = [name for name in changed if re.search(spec["files"], name)]
    return subprocess.run(
        [*shlex.split(spec["entry"]), *selected],
        cwd=project,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_hook_validates_each_changed_agent_once(project: Path) -> None:
    changed = ["agents/good/main.py", "agents/good/agent.json", "tools.py", "README.md"]
    done = run_hook(project, changed)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"{Path('agents/good')}: valid\n"


def test_the_hook_fails_on_an_invalid_agent(project: Path) -> None:
    done = run_hook(project, ["agents/broken/main.py", "agents/good/main.py"])
    assert done.returncode == 1
    assert done.stdout.splitlines()[-3:] == [
        f"{Path('agents/broken')}: invalid (1 error)",
        f"{Path('agents/good')}: valid",
        "1 of 2 agents valid",
    ]


def test_the_hook_skips_files_outside_agents(project: Path) -> None:
    done = run_hook(project, ["tools.py"])
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def action() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / "action.yml").read_text()))


def test_the_action_is_a_composite_that_installs_and_validates() -> None:
    spec = action()
    assert spec["runs"]["using"] == "composite"
    assert set(spec["inputs"]) == {"paths", "strict", "python-version", "package"}
    install, validate = spec["runs"]["steps"][1:]
    assert install["run"] == ('python -m pip install --disable-pip-version-check "$VIKSA_PACKAGE"')
    assert install["env"] == {"VIKSA_PACKAGE": "${{ inputs.package }}"}
    assert "--format github" in validate["run"]
    # No input is spliced into a script (script injection): they come through env.
    for step in spec["runs"]["steps"]:
        assert "${{" not in step.get("run", "")
        # Actions it uses are pinned by digest, as in this repository's workflows.
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"])


@pytest.mark.parametrize(
    ("paths", "strict", "code"),
    [("agents/good", "false", 0), ("agents/good agents/broken", "false", 1), ("agents", "true", 1)],
)
def test_the_actions_validate_step_annotates_problems(
    project: Path, paths: str, strict: str, code: int
) -> None:
    validate = action()["runs"]["steps"][2]
    done = subprocess.run(
        ["bash", "-c", validate["run"]],
        cwd=project,
        env={**env(), "VIKSA_PATHS": paths, "VIKSA_STRICT": strict},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == code, done.stderr
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::")]
    if "broken" in paths or paths == "agents":
        assert annotations[0].startswith("::error file=agents/broken/main.py,line=5,col=1,")
    else:
        assert annotations == []
