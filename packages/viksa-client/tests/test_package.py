"""The package surface: exports, lazy imports and the dependencies that keep it fast."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import requires

import viksa_ai
import viksa_ai.client


def _modules_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout))


def test_every_public_name_resolves() -> None:
    for name in viksa_ai.client.__all__:
        assert getattr(viksa_ai.client, name) is not None, name
    assert set(viksa_ai.client.__all__) <= set(dir(viksa_ai.client))


def test_the_meta_package_reexports_the_client_names() -> None:
    for name in ("ViksaClient", "ViksaSyncClient", "ClientConfig", "RetryConfig", "ViksaError"):
        assert getattr(viksa_ai, name) is getattr(viksa_ai.client, name)


def test_import_of_the_package_loads_nothing_heavy() -> None:
    loaded = _modules_after("import viksa_ai.client")
    assert "httpx" not in loaded
    assert "pydantic" not in loaded
    assert "typing" not in loaded


def test_the_client_does_not_build_the_models_before_they_are_needed() -> None:
    loaded = _modules_after("from viksa_ai import ViksaClient\nViksaClient('t')")
    assert "httpx" in loaded
    assert "pydantic" not in loaded
    assert not any(name.startswith("viksa_ai.models") for name in loaded)
    assert "viksa_ai.client._sync._client" not in loaded  # the twin loads on first use


def test_sniffio_is_a_declared_dependency() -> None:
    # httpcore retries a failing `import sniffio` on every pool operation when it is
    # missing (newer anyio no longer installs it): a 25-30% throughput loss.
    declared = [line.split(";")[0].replace(" ", "") for line in requires("viksa-client") or []]
    assert any(line.startswith("sniffio") for line in declared)
    assert "sniffio" in _modules_after("import sniffio")
