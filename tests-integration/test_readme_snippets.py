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
