"""Fixtures: the runtime as the package and as the injected ``ViksaAI.py`` alone."""

import sys
from collections.abc import Iterator
from types import CodeType, ModuleType

import pytest

import viksa_ai.runtime
from viksa_ai.runtime import to_module_source
from viksa_ai.runtime._viksa import _SHARED_STATE_KEY


@pytest.fixture(scope="session")
def runtime_code() -> CodeType:
    """The injected text, compiled as the platform's ``ViksaAI.py``."""
    return compile(to_module_source(), "ViksaAI.py", "exec")


def _exec_copy(code: CodeType, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = ModuleType("ViksaAI")
    # Registered like an imported module, so that pickling by reference finds it.
    monkeypatch.setitem(sys.modules, "ViksaAI", module)
    exec(code, module.__dict__)
    return module


@pytest.fixture(params=["package", "standalone"])
def rt(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, runtime_code: CodeType
) -> ModuleType:
    """Each behaviour test runs against ``viksa_ai.runtime`` and a lone ``ViksaAI`` copy.

    The standalone copy is the injected text exec'd in a fresh module namespace, with
    the package's shared state hidden, so it creates and uses its own state and classes.
    """
    if request.param == "package":
        return viksa_ai.runtime
    monkeypatch.delitem(sys.modules, _SHARED_STATE_KEY)
    module = _exec_copy(runtime_code, monkeypatch)
    assert module.ViksaAuthError is not viksa_ai.runtime.ViksaAuthError
    return module


@pytest.fixture
def second_copy(monkeypatch: pytest.MonkeyPatch, runtime_code: CodeType) -> ModuleType:
    """A ``ViksaAI`` copy loaded next to the package, as in an agent importing both."""
    return _exec_copy(runtime_code, monkeypatch)


@pytest.fixture(autouse=True)
def _no_envelope() -> Iterator[None]:
    # Every test starts outside any A2A call, and leaves no envelope behind.
    token = viksa_ai.runtime._set_envelope(None)
    yield
    viksa_ai.runtime._reset_envelope(token)


@pytest.fixture(autouse=True)
def _no_auth_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIKSA_AUTH_ENABLED_METHODS", raising=False)
    monkeypatch.delenv("VIKSA_AUTH_CONFIGURED_METHODS", raising=False)
