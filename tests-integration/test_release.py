"""Release engineering: the one version, the license, the CHANGELOG and the workflows.

The workflows are checked against the workspace members found from the root pyproject
(``[tool.uv.workspace] members``), so a distribution added to packages/ but not to the
release (or a release step left for a removed one) fails here.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "bump_version.py"
CI = ROOT / ".github" / "workflows" / "ci.yml"
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
# The Apache License 2.0 as published (with its appendix), byte for byte.
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
META = "viksa-ai"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bump_version", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bump = _load_script()
MEMBERS: dict[str, Path] = bump.workspace_members(ROOT)
VERSION: str = bump.read_version(ROOT)


def run_script(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, SCRIPT, *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of every file that holds the version, the root pyproject and CHANGELOG."""
    files = {copy.path for copy in bump.find_copies(ROOT)}
    files |= {ROOT / name for name in ("VERSION", "CHANGELOG.md", "pyproject.toml")}
    for file in files:
        target = tmp_path / file.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)
    return tmp_path


# --- the one version -------------------------------------------------------------------


def test_the_members_are_the_packages_folders() -> None:
    folders = {path.parent for path in ROOT.glob("packages/*/pyproject.toml")}
    assert set(MEMBERS.values()) == folders
    assert META in MEMBERS


def test_every_member_is_a_workspace_source() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    sources = text.partition("[tool.uv.sources]")[2].partition("\n[")[0]
    assert set(re.findall(r"^([\w-]+) = \{ workspace = true \}", sources, re.M)) == set(MEMBERS)


def test_every_copy_of_the_version_agrees_with_version_file() -> None:
    assert bump.disagreeing(ROOT) == []
    assert run_script("--check").stdout == f"{VERSION}\n"


def test_the_copies_cover_every_distribution_and_version_attribute() -> None:
    copies = bump.find_copies(ROOT)
    for name, folder in MEMBERS.items():
        (field,) = [copy for copy in copies if copy.what == f"the version of {name}"]
        assert field.path == folder / "pyproject.toml"
    described = [copy.describe(ROOT) for copy in copies]
    for holder in (
        "packages/viksa-runtime/src/viksa_ai/runtime/_viksa.py",
        "packages/viksa-client/src/viksa_ai/client/__init__.py",
        "packages/viksa-ai/src/viksa_ai/__init__.py",
        "tests/fixtures/ViksaAI.py.expected",
    ):
        assert any(line.startswith(f"{holder}:") and "__version__" in line for line in described)


def test_the_installed_distributions_and_the_running_code_report_the_version() -> None:
    import viksa_ai
    import viksa_ai.client
    import viksa_ai.runtime

    assert {name: importlib.metadata.version(name) for name in MEMBERS} == dict.fromkeys(
        MEMBERS, VERSION
    )
    assert viksa_ai.__version__ == viksa_ai.runtime.__version__ == VERSION
    assert viksa_ai.client.__version__ == VERSION


def test_the_local_platform_reports_the_version() -> None:
    from viksa_ai.devtools.platform import create_app

    app = create_app()
    try:
        assert app.version == VERSION
        assert app.openapi()["info"]["version"] == VERSION
    finally:
        app.state.platform.close()


def test_a_copy_that_disagrees_fails_the_check(checkout: Path) -> None:
    pyproject = checkout / "packages" / "viksa-devtools" / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace(f"viksa-runtime=={VERSION}", "viksa-runtime==9.9.9"))
    done = run_script("--check", "--root", checkout)
    assert done.returncode == 1
    assert "packages/viksa-devtools/pyproject.toml:" in done.stderr
    assert 'the pin on viksa-runtime is "9.9.9"' in done.stderr
    assert f"Run: python scripts/bump_version.py {VERSION}" in done.stderr


def test_a_hand_edited_version_file_fails_the_check(checkout: Path) -> None:
    (checkout / "VERSION").write_text("9.9.9\n", encoding="utf-8")
    done = run_script("--check", "--root", checkout)
    assert done.returncode == 1
    assert done.stderr.count('is "0') == len(bump.find_copies(checkout))


def test_bump_rewrites_every_copy_and_nothing_else(checkout: Path) -> None:
    before = {copy.path: copy.path.read_text(encoding="utf-8") for copy in bump.find_copies(ROOT)}
    done = run_script("1.2.3rc1", "--root", checkout)
    assert done.returncode == 0, done.stderr
    assert "Now add a '## 1.2.3rc1' section to CHANGELOG.md." in done.stdout
    assert (checkout / "VERSION").read_text(encoding="utf-8") == "1.2.3rc1\n"
    copies = bump.find_copies(checkout)
    assert {copy.value for copy in copies} == {"1.2.3rc1"}
    assert len(copies) == len(bump.find_copies(ROOT))
    for path, text in before.items():
        changed = (checkout / path.relative_to(ROOT)).read_text(encoding="utf-8")
        assert changed.replace("1.2.3rc1", VERSION) == text
    assert run_script("--check", "--root", checkout).returncode == 0


@pytest.mark.parametrize("bad", ["v1.0.0", "1.0.0-rc1", "1.0.0+local", "one", ""])
def test_bump_refuses_a_version_that_is_not_normalized(checkout: Path, bad: str) -> None:
    done = run_script(bad, "--root", checkout)
    assert done.returncode != 0
    assert (checkout / "VERSION").read_text(encoding="utf-8") == f"{VERSION}\n"


# --- license ---------------------------------------------------------------------------


def test_the_license_is_the_apache_2_text() -> None:
    assert hashlib.sha256((ROOT / "LICENSE").read_bytes()).hexdigest() == APACHE_2_SHA256


@pytest.mark.parametrize("name", sorted(MEMBERS))
def test_every_distribution_declares_and_holds_the_license(name: str) -> None:
    folder = MEMBERS[name]
    # A copy, not a symlink: an sdist would carry a dangling link.
    assert not (folder / "LICENSE").is_symlink()
    assert (folder / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes(), (
        f"run: cp LICENSE {folder.relative_to(ROOT)}/LICENSE"
    )
    text = (folder / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^license = "Apache-2.0"\nlicense-files = \["LICENSE"\]$', text, re.M)


# --- CHANGELOG -------------------------------------------------------------------------


def test_the_changelog_has_an_entry_for_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert bump.changelog_problems(changelog, VERSION) == []


def test_every_changelog_entry_uses_the_five_sections() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## \[?([^\]\s]+)", changelog, flags=re.M)
    assert versions
    for version in versions:
        assert bump.changelog_problems(changelog, version) == []


@pytest.mark.parametrize(
    ("changelog", "problem"),
    [
        ("# Changelog\n\n## 0.0.1\n\n### Added\n\n- x\n", "has no section '## {v}'"),
        ("# Changelog\n\n## {v}\n\nSome words.\n", "has no '### Added' (etc.) list"),
        ("# Changelog\n\n## {v}\n\n### New\n\n- x\n", "'### New' is not one of"),
    ],
)
def test_the_tag_check_refuses_a_changelog_without_a_proper_entry(
    checkout: Path, changelog: str, problem: str
) -> None:
    (checkout / "CHANGELOG.md").write_text(changelog.format(v=VERSION), encoding="utf-8")
    done = run_script("--check", "--tag", f"v{VERSION}", "--root", checkout)
    assert done.returncode == 1
    assert problem.format(v=VERSION) in done.stderr


@pytest.mark.parametrize("tag", ["9.9.9", "v9.9.9", f"{VERSION}", f"v{VERSION}.post1"])
def test_the_tag_check_refuses_a_tag_that_is_not_the_version(checkout: Path, tag: str) -> None:
    done = run_script("--check", "--tag", tag, "--root", checkout)
    assert done.returncode == 1
    assert f'the tag "{tag}" is not "v{VERSION}"' in done.stderr


def test_the_tag_check_accepts_the_version_tag(checkout: Path) -> None:
    done = run_script("--check", "--tag", f"v{VERSION}", "--root", checkout)
    assert (done.returncode, done.stdout) == (0, f"{VERSION}\n"), done.stderr


def test_the_dist_check_wants_one_wheel_and_one_sdist_per_member(
    checkout: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    dist = tmp_path_factory.mktemp("dist")
    for name in MEMBERS:
        stem = f"{name.replace('-', '_')}-{VERSION}"
        (dist / f"{stem}-py3-none-any.whl").write_bytes(b"")
        (dist / f"{stem}.tar.gz").write_bytes(b"")
    assert run_script("--check", "--dist", dist, "--root", checkout).returncode == 0
    (dist / f"viksa_runtime-{VERSION}.tar.gz").unlink()
    (dist / "viksa_runtime-0.0.1-py3-none-any.whl").write_bytes(b"")
    done = run_script("--check", "--dist", dist, "--root", checkout)
    assert done.returncode == 1
    assert f"missing from {dist}: viksa_runtime-{VERSION}.tar.gz" in done.stderr
    assert f"not expected in {dist}: viksa_runtime-0.0.1-py3-none-any.whl" in done.stderr


# --- the workflows ---------------------------------------------------------------------


def load_workflow(path: Path) -> dict[str, Any]:
    workflow: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean true.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def run_commands(job: dict[str, Any]) -> list[str]:
    return [" ".join(step["run"].split()) for step in job["steps"] if "run" in step]


def used_actions(job: dict[str, Any]) -> list[str]:
    return [step["uses"].partition("@")[0] for step in job["steps"] if "uses" in step]


def classifier_versions() -> set[str]:
    found: set[str] = set()
    for folder in MEMBERS.values():
        text = (folder / "pyproject.toml").read_text(encoding="utf-8")
        found |= set(re.findall(r'"Programming Language :: Python :: (3\.\d+)"', text))
    return found


def sibling_pins(name: str) -> set[str]:
    """The workspace members that ``name`` pins (dependencies and extras)."""
    return {
        copy.what.removeprefix("the pin on ")
        for copy in bump.find_copies(ROOT)
        if copy.path == MEMBERS[name] / "pyproject.toml" and copy.what.startswith("the pin on ")
    }


def test_ci_runs_on_push_and_pull_request() -> None:
    assert set(load_workflow(CI)["on"]) == {"push", "pull_request"}


def test_ci_tests_every_supported_python_on_linux() -> None:
    job = load_workflow(CI)["jobs"]["linux"]
    versions = job["strategy"]["matrix"]["python-version"]
    assert job["runs-on"].startswith("ubuntu")
    assert set(versions) == classifier_versions() == {"3.10", "3.11", "3.12", "3.13"}
    for folder in MEMBERS.values():
        text = (folder / "pyproject.toml").read_text(encoding="utf-8")
        assert f'requires-python = ">={min(versions, key=lambda v: int(v[2:]))}"' in text


def test_ci_takes_the_interpreter_from_the_setup_action() -> None:
    workflow = load_workflow(CI)
    assert workflow["env"]["UV_PYTHON_DOWNLOADS"] == "never"
    for job in workflow["jobs"].values():
        (setup,) = [
            step
            for step in job["steps"]
            if step.get("uses", "").startswith("actions/setup-python@")
        ]
        assert setup["with"]["python-version"] == "${{ matrix.python-version }}"
        assert job["env"]["UV_PYTHON"] == "${{ matrix.python-version }}"
        assert "astral-sh/setup-uv" in used_actions(job)


def test_ci_runs_every_step_of_the_ci_script_on_linux() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    steps = [
        " ".join(line.split()) for line in script.splitlines() if line.startswith(("uv ", "bash "))
    ]
    assert steps  # uv sync, ruff check, ruff format --check, mypy, pytest
    commands = run_commands(load_workflow(CI)["jobs"]["linux"])
    assert [step for step in steps if step not in commands] == []
    install = next(command for command in commands if "apt-get install" in command)
    assert "chromium" in install
    assert "bubblewrap" in install
    # The script installs the same system packages where they are missing.
    assert "missing+=(chromium)" in script
    assert "missing+=(bubblewrap)" in script


def test_the_strict_type_check_covers_every_member() -> None:
    # scripts/typecheck.sh names each portion of the namespace (see its comment).
    checked = set(re.findall(r"-p (viksa_ai[\w.]*)", (ROOT / "scripts/typecheck.sh").read_text()))
    portions = set()
    for folder in MEMBERS.values():
        namespace = folder / "src" / "viksa_ai"
        if (namespace / "__init__.py").is_file():  # the meta-package
            portions.add("viksa_ai")
        portions |= {f"viksa_ai.{init.parent.name}" for init in namespace.glob("*/__init__.py")}
    assert portions == checked


def test_ci_runs_the_unit_suites_on_macos() -> None:
    job = load_workflow(CI)["jobs"]["macos"]
    assert job["runs-on"].startswith("macos")
    assert "uv sync --all-packages" in run_commands(job)
    assert "uv run pytest packages" in run_commands(job)


@pytest.mark.parametrize("path", [CI, RELEASE], ids=["ci", "release"])
def test_every_action_is_pinned_by_digest(path: Path) -> None:
    # A moved tag cannot change what runs, least of all in the job holding id-token.
    for name, job in load_workflow(path)["jobs"].items():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), (name, step)
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_release_runs_only_on_version_tags() -> None:
    assert load_workflow(RELEASE)["on"] == {"push": {"tags": ["v*"]}}


def test_release_checks_the_tag_before_anything_else() -> None:
    jobs = load_workflow(RELEASE)["jobs"]
    assert 'python scripts/bump_version.py --check --tag "${GITHUB_REF_NAME}"' in run_commands(
        jobs["check"]
    )
    assert jobs["build"]["needs"] == "check"
    assert set(jobs["publish"]["needs"]) == {"check", "build", "smoke"}


def test_release_builds_once_and_smoke_tests_those_files() -> None:
    jobs = load_workflow(RELEASE)["jobs"]
    builds = [
        (name, command)
        for name, job in jobs.items()
        for command in run_commands(job)
        if "uv build" in command
    ]
    assert builds == [("build", "uv build --all-packages --out-dir dist")]
    assert "python scripts/bump_version.py --check --dist dist" in run_commands(jobs["build"])
    assert "actions/upload-artifact" in used_actions(jobs["build"])
    smoke = jobs["smoke"]
    assert smoke["needs"] == "build"
    assert "actions/download-artifact" in used_actions(smoke)
    (test,) = [step for step in smoke["steps"] if "test_packaging.py" in step.get("run", "")]
    assert test["env"]["VIKSA_WHEELHOUSE"] == "${{ github.workspace }}/dist"


def publish_order_problems(order: list[str], pins: dict[str, set[str]]) -> list[str]:
    """Why publishing in ``order`` could serve a pin on an unpublished sibling (or miss one).

    ``pins`` maps every workspace member to the members it pins.
    """
    problems = [f"{name} is not published" for name in sorted(set(pins) - set(order))]
    problems += [f"{name} is not a workspace member" for name in sorted(set(order) - set(pins))]
    problems += [
        f"{name} is published twice" for name in sorted(set(order)) if order.count(name) > 1
    ]
    if order and order[-1] != META:
        problems.append(f"{order[-1]} is published last, not the meta-package {META}")
    for position, name in enumerate(order):
        problems += [
            f"{name} is published before {sibling}, which it pins"
            for sibling in sorted(pins.get(name, set()) - set(order[:position]))
        ]
    return problems


def publish_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = load_workflow(RELEASE)["jobs"]["publish"]["steps"]
    return [step for step in steps if "gh-action-pypi-publish" in step.get("uses", "")]


def published_order() -> list[str]:
    return [
        step["with"]["packages-dir"].strip("/").removeprefix("dist/") for step in publish_steps()
    ]


def test_release_publishes_with_trusted_publishing_only() -> None:
    assert load_workflow(RELEASE)["jobs"]["publish"]["permissions"] == {"id-token": "write"}
    for step in publish_steps():
        # The action's default target; no token (OIDC), no other index.
        assert set(step["with"]) == {"packages-dir", "skip-existing"}, step


def test_release_publishes_every_member_once_each_after_what_it_pins() -> None:
    pins = {name: sibling_pins(name) for name in MEMBERS}
    assert publish_order_problems(published_order(), pins) == []


def test_a_member_missing_from_the_release_fails() -> None:
    pins = {name: sibling_pins(name) for name in MEMBERS}
    pins["viksa-seventh"] = {"viksa-runtime"}
    assert publish_order_problems(published_order(), pins) == ["viksa-seventh is not published"]


def test_a_publish_order_that_serves_an_unpublished_pin_fails() -> None:
    pins = {name: sibling_pins(name) for name in MEMBERS}
    order = published_order()
    assert publish_order_problems([*order[1:], order[0]], pins)[0] == (
        f"viksa-runtime is published last, not the meta-package {META}"
    )
    client_first = ["viksa-client", *(name for name in order if name != "viksa-client")]
    assert publish_order_problems(client_first, pins) == [
        "viksa-client is published before viksa-models, which it pins"
    ]


def test_sibling_pins_are_found() -> None:
    # The order check above is only as good as the pins it finds.
    assert {"viksa-runtime", "viksa-models", "viksa-client", "viksa-devtools"} <= sibling_pins(META)
    assert sibling_pins("viksa-client") == {"viksa-models"}
    assert sibling_pins("viksa-runtime") == set()


def test_no_committed_file_names_a_package_registry_host() -> None:
    hosts = [".".join(parts) for parts in (("pypi", "org"), ("pythonhosted", "org"),
                                           ("npmjs", "org"), ("npmjs", "com"),
                                           ("deb", "debian", "org"))]  # fmt: skip
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    )
    named = []
    for name in listed.stdout.decode().split("\0"):
        path = ROOT / name
        if name and path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace").lower()
            named += [f"{name}: {host}" for host in hosts if host in text]
    assert named == []
