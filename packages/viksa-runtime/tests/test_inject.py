"""The injected ``ViksaAI.py``: one source of truth, the contract fixture, the copy alone."""

import importlib.metadata
import json
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import viksa_ai.runtime
from viksa_ai.runtime import _viksa, inject, to_module_source

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests" / "fixtures" / "ViksaAI.py.expected"
SYNC_SCRIPT = ROOT / "scripts" / "sync_injected_sdk.py"
SUBPROCESS_TIMEOUT = 120

# What importing the runtime may add to sys.modules: nothing heavier than contextvars.
CHEAP_IMPORTS = {"_contextvars", "contextvars", _viksa._SHARED_STATE_KEY}


def _run_python(code: str, *args: str, cwd: Path | None = None) -> str:
    completed = subprocess.run(
        [sys.executable, *args, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@pytest.fixture
def injected_dir(tmp_path: Path) -> Path:
    """A directory holding ``ViksaAI.py`` as the platform writes it."""
    (tmp_path / "ViksaAI.py").write_bytes(to_module_source().encode("utf-8"))
    return tmp_path


def test_source_matches_the_contract_fixture() -> None:
    assert to_module_source().encode("utf-8") == FIXTURE.read_bytes()


def test_source_is_the_runtime_module_file_byte_for_byte() -> None:
    assert to_module_source().encode("utf-8") == Path(_viksa.__file__).read_bytes()
    assert to_module_source().isascii()


def test_source_is_read_once() -> None:
    assert to_module_source() is to_module_source()


@pytest.mark.parametrize("module_file", [None, "/site/viksa_ai/runtime/_viksa.pyc"])
def test_an_install_without_the_source_file_says_how_to_repair(
    monkeypatch: pytest.MonkeyPatch, module_file: str | None
) -> None:
    sourceless = ModuleType(_viksa.__name__)
    if module_file is not None:
        sourceless.__file__ = module_file
    monkeypatch.setattr(inject, "_viksa", sourceless)
    monkeypatch.setattr(inject, "_source", None)

    with pytest.raises(RuntimeError, match="without its source file") as caught:
        inject.to_module_source()
    assert "pip install --force-reinstall viksa-runtime" in str(caught.value)
    assert str(module_file or "none") in str(caught.value)


def test_a_source_file_gone_since_the_import_says_how_to_repair(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # An upgrade in place under a running service removes the file the module came
    # from: a bare FileNotFoundError said nothing of what to do.
    gone = ModuleType(_viksa.__name__)
    gone.__file__ = str(tmp_path / "viksa_ai" / "runtime" / "_viksa.py")
    monkeypatch.setattr(inject, "_viksa", gone)
    monkeypatch.setattr(inject, "_source", None)

    with pytest.raises(RuntimeError, match="cannot be read") as caught:
        inject.to_module_source()
    assert "pip install --force-reinstall viksa-runtime" in str(caught.value)
    assert gone.__file__ in str(caught.value)
    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_source_is_read_through_the_loader_from_a_zip_archive(tmp_path: Path) -> None:
    # zipimport gives a __file__ inside the archive, which open() cannot read.
    archive = tmp_path / "runtime.zip"
    package = Path(_viksa.__file__).parent
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("viksa_ai/__init__.py", "")  # zipimport has no namespace packages
        for name in ("__init__.py", "_viksa.py", "inject.py"):
            zipped.write(package / name, f"viksa_ai/runtime/{name}")
    output = _run_python(
        f"""
        import sys
        sys.path.insert(0, {str(archive)!r})
        from viksa_ai.runtime import _viksa, to_module_source
        assert ".zip" in _viksa.__file__, _viksa.__file__
        sys.stdout.buffer.write(to_module_source().encode("utf-8"))
        """,
        "-S",
        cwd=tmp_path,
    )

    assert output == Path(_viksa.__file__).read_text(encoding="utf-8")


def test_the_readme_import_paths_agree() -> None:
    assert viksa_ai.runtime.to_module_source is inject.to_module_source


def test_the_readme_names_the_shared_state_key_in_use() -> None:
    # The README said _v2 after the key became _v3 (trace state): someone checking
    # sys.modules for it, as the README tells, found nothing.
    readme = (ROOT / "packages" / "viksa-runtime" / "README.md").read_text(encoding="utf-8")
    keys = set(re.findall(r"_viksa_ai_runtime_state_v\d+", readme))
    assert keys == {_viksa._SHARED_STATE_KEY}


# "-S": no site-packages, as a plain `python` on a fresh checkout: the script falls back
# to the checkout's runtime sources.
@pytest.mark.parametrize("flags", [[], ["-S"]], ids=["installed", "fresh-checkout"])
def test_sync_script_prints_exactly_the_source(flags: list[str]) -> None:
    completed = subprocess.run(
        [sys.executable, *flags, str(SYNC_SCRIPT)],
        capture_output=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=True,
    )
    assert completed.stdout == FIXTURE.read_bytes()


def test_sync_script_help_says_what_it_prints_instead_of_printing_it() -> None:
    completed = subprocess.run(
        [sys.executable, str(SYNC_SCRIPT), "--help"],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=True,
    )
    assert completed.stdout.startswith("usage: sync_injected_sdk.py")
    assert "tests/fixtures/ViksaAI.py.expected" in completed.stdout
    assert "def mcp_endpoint" not in completed.stdout


def test_version_is_the_distribution_version() -> None:
    assert viksa_ai.runtime.__version__ == importlib.metadata.version("viksa-runtime")


def test_source_exec_in_a_bare_namespace_works() -> None:
    namespace: dict[str, Any] = {"__name__": "ViksaAI"}
    exec(compile(to_module_source(), "ViksaAI.py", "exec"), namespace)

    # Sharing the package's state, this copy sees what the package sets.
    with viksa_ai.runtime._use_envelope({"run_id": "r"}):
        assert namespace["context"]() == {"run_id": "r"}
    assert namespace["ViksaAuthError"] is viksa_ai.runtime.ViksaAuthError


def test_injected_copy_alone_imports_only_cheap_stdlib_modules(injected_dir: Path) -> None:
    # -S: no site-packages, so viksa_ai cannot be found; only ViksaAI.py next to the agent.
    output = _run_python(
        """
        import os, sys  # os: what site imports in every normal interpreter
        sys.path.insert(0, ".")
        before = set(sys.modules)
        import ViksaAI
        added = sorted(set(sys.modules) - before - {"ViksaAI"})
        typing_at_import = "typing" in sys.modules
        ViksaAI.A2AContext
        import json
        print(json.dumps({
            "added": added,
            "typing_at_import": typing_at_import,
            "typing_after": "typing" in sys.modules,
            "viksa_ai": any(name.startswith("viksa_ai") for name in sys.modules),
        }))
        """,
        "-S",
        cwd=injected_dir,
    )
    report = json.loads(output)

    assert set(report["added"]) <= CHEAP_IMPORTS
    assert not report["typing_at_import"]
    assert report["typing_after"]
    assert not report["viksa_ai"]


def test_injected_copy_alone_works_in_a_fresh_interpreter(injected_dir: Path) -> None:
    output = _run_python(
        """
        import asyncio, json, os, sys
        sys.path.insert(0, ".")
        from ViksaAI import (
            A2AContext, ViksaAuth, ViksaAuthError, _split_envelope, _use_envelope,
            attach_envelope, context, get_endpoint_info, mcp_endpoint,
        )

        @mcp_endpoint(description="Echo the run id")
        async def echo(payload):
            return {"run_id": context().get("run_id"), "payload": payload}

        os.environ["VIKSA_AUTH_ENABLED_METHODS"] = "bearer_token"
        os.environ["bearer_token.api_key"] = "k"
        payload, envelope = _split_envelope(attach_envelope({"q": 1}, {"run_id": "r-1"}))
        with _use_envelope(envelope):
            result = asyncio.run(echo(payload))
        try:
            ViksaAuth.require_param("oauth_client", "client_id")
        except ViksaAuthError as error:
            message = str(error)
        print(json.dumps({
            "result": result,
            "endpoint": repr(get_endpoint_info(echo)),
            "method": ViksaAuth.require_method("oauth_client", "bearer_token"),
            "param": ViksaAuth.require_param("bearer_token", "api_key"),
            "error_names_method": "'oauth_client'" in message,
            "modules": [ViksaAuthError.__module__, A2AContext.__module__],
        }))
        """,
        "-S",
        cwd=injected_dir,
    )

    assert json.loads(output) == {
        "result": {"run_id": "r-1", "payload": {"q": 1}},
        "endpoint": "EndpointInfo(name='echo', description='Echo the run id')",
        "method": "bearer_token",
        "param": "k",
        "error_names_method": True,
        "modules": ["ViksaAI", "ViksaAI"],
    }


def test_package_import_adds_only_its_own_and_cheap_modules() -> None:
    output = _run_python(
        """
        import sys, json
        import viksa_ai  # the meta-package, when installed, is measured elsewhere
        before = set(sys.modules)
        import viksa_ai.runtime
        print(json.dumps(sorted(set(sys.modules) - before)))
        """
    )
    added = set(json.loads(output))

    assert added <= {"viksa_ai.runtime", "viksa_ai.runtime._viksa", *CHEAP_IMPORTS}


def test_copy_imported_first_shares_its_state_with_the_package(injected_dir: Path) -> None:
    output = _run_python(
        """
        import sys
        sys.path.insert(0, ".")
        import ViksaAI
        import viksa_ai.runtime as runtime

        token = ViksaAI._set_envelope({"run_id": "shared"})
        seen = runtime.context()
        ViksaAI._reset_envelope(token)
        try:
            ViksaAI.ViksaAuth.require_method("oauth_client")
        except runtime.ViksaAuthError:
            caught = True
        print(seen, caught, runtime.ViksaAuthError is ViksaAI.ViksaAuthError,
              runtime.EndpointInfo.__module__)
        """,
        cwd=injected_dir,
    )

    assert output.split() == ["{'run_id':", "'shared'}", "True", "True", "ViksaAI"]


def test_source_is_python_3_10_syntax() -> None:
    # Platform workers may run the oldest Python the SDK supports; this interpreter would
    # accept newer syntax (except*, PEP 695 generics) without a word.
    import ast

    ast.parse(to_module_source(), "ViksaAI.py", feature_version=(3, 10))


def test_the_injected_copy_has_every_public_name_and_hook_of_the_package() -> None:
    namespace: dict[str, Any] = {"__name__": "ViksaAI"}
    exec(compile(to_module_source(), "ViksaAI.py", "exec"), namespace)
    package_names = set(viksa_ai.runtime.__all__) - {"to_module_source"}  # services only
    assert package_names <= set(namespace["__all__"])
    hooks = {name for name in dir(viksa_ai.runtime) if name.startswith("_") and name[1] != "_"}
    hooks -= {"_LAZY", "_SUBMODULES", "_viksa"}  # the package's own machinery
    for name in sorted(package_names | hooks):
        assert name in namespace or name == "A2AContext", name
    # A2AContext is built on first use in both copies.
    assert namespace["__getattr__"]("A2AContext").__name__ == "A2AContext"
