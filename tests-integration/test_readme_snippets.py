"""README snippets named by issue 12: the client README's imports with viksa-client alone,
and the devtools README's pytest plugin example run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Venv

REPO = Path(__file__).resolve().parents[1]
_PYTHON = re.compile(r"```python\n(.*?)```", re.DOTALL)


def python_blocks(readme: Path) -> list[str]:
    return _PYTHON.findall(readme.read_text(encoding="utf-8"))


@pytest.mark.packaging
def test_the_client_readme_imports_work_with_viksa_client_alone(
    make_venv: Callable[..., Venv],
) -> None:
    imports = sorted(
        {
            line.strip()
            for block in python_blocks(REPO / "packages" / "viksa-client" / "README.md")
            for line in block.splitlines()
            if re.match(r"\s*(from|import) viksa_ai\b", line)
        }
    )
    assert "from viksa_ai.client import ViksaClient" in imports
    assert not [line for line in imports if line.startswith("from viksa_ai import")]
    venv = make_venv()
    venv.install("viksa-client")
    venv.python_code("\n".join([*imports, "print('ok')"]))
    # What the README says needs the meta-package indeed does.
    missing = subprocess.run(
        [venv.python, "-c", "from viksa_ai import ViksaClient"], capture_output=True, text=True
    )
    assert missing.returncode != 0


def test_the_pytest_plugin_example_runs_as_written(tmp_path: Path) -> None:
    readme = REPO / "packages" / "viksa-devtools" / "README.md"
    (example,) = [b for b in python_blocks(readme) if "async def test_my_agent" in b]
    (tmp_path / "test_example.py").write_text(example, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    # A folder outside this project (pytest-asyncio in its default strict mode): the
    # snippet carries the marker it needs.
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def run(
    args: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command outside this venv; fail the test with its output when it fails."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "UV_PROJECT"))
    }
    environ.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


def readme_bash_block(heading: str) -> list[str]:
    """The commands of the first ``bash`` block under ``heading`` in the root README."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index(f"\n{heading}\n") :]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.packaging
def test_install_from_a_clone_works_as_written(
    tmp_path: Path, make_venv: Callable[..., Venv]
) -> None:
    commands = readme_bash_block("### Install from a clone")
    assert commands == [
        "uv build --all-packages --wheel --out-dir dist",
        'pip install --find-links dist "viksa-ai[dev]" "viksa-devtools[server]"',
    ]
    clone = tmp_path / "clone"
    run(["git", "clone", "--quiet", "--no-hardlinks", REPO, clone], cwd=tmp_path)
    # The clone holds what is committed; the change under test may not be yet.
    tracked = run(["git", "ls-files", "-z"], cwd=REPO).stdout.split("\0")
    for name in filter(None, tracked):
        source = REPO / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            (clone / name).write_bytes(source.read_bytes())
    venv = make_venv(seed=True)
    path = os.pathsep.join([str(venv.bin), os.environ.get("PATH", "")])
    for command in commands:
        run(["bash", "-c", command], cwd=clone, env={"PATH": path})
    done = run([venv.bin / "viksa", "--version"], cwd=clone)
    assert done.stdout.startswith("viksa 0.3.0")
    run([venv.bin / "viksa", "init", "agent"], cwd=tmp_path)
    run([venv.bin / "viksa", "validate", "agent"], cwd=tmp_path)
