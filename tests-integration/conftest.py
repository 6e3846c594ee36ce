"""Shared fixtures of the cross-package tests: the wheels, built once, and fresh venvs.

Our distributions reach a venv only from the wheels built from this checkout: every
install passes a constraints file pinning each of our names to its wheel file, so a
published package of the same name is never picked. Third-party dependencies come from
the package index (or uv's cache).

Each wheel is built from its sdist, as an installer building from source would. With
VIKSA_WHEELHOUSE set to a folder of already built wheels and sdists (the release
workflow's artifact), the tests use those files instead of building.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
_TIMEOUT = 300  # seconds for one build or install; a hang fails instead of blocking CI


def _register_helper(name: str) -> None:
    """Make this folder's helper module ``name.py`` importable as ``name``.

    pytest's importlib mode puts no test folder on ``sys.path``; a conftest is imported
    before the test modules of its folder, so they can ``import name`` at their top.
    """
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)


_register_helper("_live_server")


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if found is None:
        pytest.fail("uv is needed to build wheels and venvs: install it (pip install uv)")
    return found


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without what would steer Python, pip or uv elsewhere."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "PYTHON", "CONDA"))
        and key not in {"VIRTUAL_ENV", "UV_PYTHON", "UV_SYSTEM_PYTHON", "UV_PROJECT_ENVIRONMENT"}
    }
    # pip reads no user or site configuration (find-links, extra indexes) in our venvs.
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    env.update(extra or {})
    return env


def run(
    args: list[str | Path],
    *,
    cwd: Path = REPO_ROOT,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command; with ``check``, fail the test with its output when it fails."""
    done = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=clean_environment(env),
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )
    if check and done.returncode != 0:
        pytest.fail(
            f"command failed ({done.returncode}): {' '.join(map(str, args))}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done


@dataclass(frozen=True)
class Wheelhouse:
    """The wheels and sdists built from this checkout, one of each per distribution."""

    directory: Path
    wheels: dict[str, Path]  # distribution name -> wheel file
    sdists: dict[str, Path]  # distribution name -> sdist file
    constraints: Path  # pins each of our names to its wheel file

    @property
    def version(self) -> str:
        """The one version of every distribution (from the wheel file names)."""
        (version,) = {wheel.name.split("-")[1] for wheel in self.wheels.values()}
        return version


def _by_distribution(files: list[Path]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for file in sorted(files):
        name = file.name.split("-")[0].replace("_", "-")
        assert name not in found, f"two files of {name}: {found.get(name)}, {file}"
        found[name] = file
    return found


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Wheelhouse:
    """Every workspace member's sdist and wheel, built once per session with ``uv build``."""
    directory = tmp_path_factory.mktemp("wheelhouse")
    prebuilt = os.environ.get("VIKSA_WHEELHOUSE")
    if prebuilt:
        for file in Path(prebuilt).iterdir():
            if file.name.endswith((".whl", ".tar.gz")):
                shutil.copy2(file, directory)
    else:
        # Without --wheel or --sdist, uv builds each sdist, then the wheel from it.
        run([_uv(), "build", "--all-packages", "--out-dir", directory])
    wheels = _by_distribution(list(directory.glob("*.whl")))
    sdists = _by_distribution(list(directory.glob("*.tar.gz")))
    constraints = directory / "constraints.txt"
    constraints.write_text(
        "".join(f"{name} @ {wheel.as_uri()}\n" for name, wheel in wheels.items()),
        encoding="utf-8",
    )
    return Wheelhouse(directory, wheels, sdists, constraints)


@dataclass(frozen=True)
class Venv:
    """A fresh virtual environment, with helpers to install into it and run in it."""

    path: Path
    wheelhouse: Wheelhouse

    @property
    def python(self) -> Path:
        """The venv's interpreter."""
        return self.path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

    @property
    def bin(self) -> Path:
        """The folder of the venv's console scripts."""
        return self.python.parent

    def install(self, *requirements: str) -> None:
        """Install requirements with uv; our names come only from the built wheels."""
        run(
            [
                _uv(),
                "pip",
                "install",
                "--python",
                self.python,
                "--constraints",
                self.wheelhouse.constraints,
                *requirements,
            ]
        )
        self._check_ours_came_from_the_wheelhouse()

    @property
    def site_packages(self) -> Path:
        """The venv's site-packages folder."""
        found = sorted(self.path.glob("lib/python3*/site-packages"))
        return found[0] if found else self.path / "Lib" / "site-packages"

    def _check_ours_came_from_the_wheelhouse(self) -> None:
        # uv records where each distribution came from (PEP 610): a guard against a
        # published package of our names ever slipping in.
        for dist_info in self.site_packages.glob("*.dist-info"):
            name = dist_info.name.split("-")[0].replace("_", "-")
            wheel = self.wheelhouse.wheels.get(name)
            if wheel is not None:
                origin = json.loads((dist_info / "direct_url.json").read_text(encoding="utf-8"))
                assert origin["url"] == wheel.as_uri(), f"{name} was installed from {origin}"

    def install_file(self, wheel: Path) -> None:
        """Install one wheel file as it is, without its dependencies, with uv."""
        run([_uv(), "pip", "install", "--python", self.python, "--no-deps", wheel])

    def uninstall(self, *names: str) -> None:
        """Uninstall distributions with uv."""
        run([_uv(), "pip", "uninstall", "--python", self.python, *names])

    def pip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the venv's own pip (the venv must be made with ``seed=True``)."""
        return run([self.python, "-m", "pip", *args], cwd=self.path, check=check)

    def script(self, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run one of the venv's console scripts."""
        return run([self.bin / name, *args], cwd=self.path, check=check)

    def python_code(
        self, code: str, *, check: bool = True, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run code in the venv's interpreter, isolated from the caller's paths (-I)."""
        return run(
            [self.python, "-I", "-c", textwrap.dedent(code)], cwd=self.path, check=check, env=env
        )


@pytest.fixture(scope="session")
def make_venv(
    tmp_path_factory: pytest.TempPathFactory, wheelhouse: Wheelhouse
) -> Callable[..., Venv]:
    """A factory of fresh venvs on this interpreter's Python; ``seed=True`` adds pip."""

    def make(*, seed: bool = False) -> Venv:
        path = tmp_path_factory.mktemp("venv") / ".venv"
        run(
            [
                _uv(),
                "venv",
                "--quiet",
                "--python",
                sys.executable,
                *(["--seed"] if seed else []),
                path,
            ]
        )
        return Venv(path, wheelhouse)

    return make
