"""Fixtures of the meta-package tests: a fresh interpreter to import ``viksa_ai`` in."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest


@pytest.fixture
def run_python(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run code in a fresh interpreter of this environment; return the finished process.

    With ``sys_path`` given, the child starts without site-packages (``-I -S``) and
    with only the standard library and those entries on ``sys.path``: the editable
    workspace portions cannot leak into a layout crafted by the test.
    """

    def run(
        code: str, *, sys_path: Sequence[Path] | None = None
    ) -> subprocess.CompletedProcess[str]:
        args = [sys.executable]
        if sys_path is not None:
            entries = [str(entry) for entry in sys_path]
            code = f"import sys\nsys.path[:0] = {entries!r}\n{code}"
            args += ["-I", "-S"]
        return subprocess.run(
            [*args, "-c", code],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )

    return run
