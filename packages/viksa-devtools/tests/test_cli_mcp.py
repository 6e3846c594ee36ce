"""``viksa mcp serve DIR``: hands the folder to the MCP bridge, or names its install."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from viksa_ai.devtools._profiles import save_profile
from viksa_ai.devtools.cli import main


def test_without_the_bridge_one_line_names_the_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "viksa_ai.mcp_bridge.cli", None)
    assert main(["mcp", "serve", "examples/text_tools_agent"]) == 2
    err = capsys.readouterr().err
    assert err == 'viksa mcp serve needs the MCP bridge: pip install "viksa-ai[mcp]"\n'


def test_the_folder_and_options_go_to_the_bridge(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("viksa_ai.mcp_bridge")
    assert main(["mcp", "serve", "no/such/dir", "--http", "--port", "9"]) == 2
    assert capsys.readouterr().err == (
        "viksa mcp serve: --path no/such/dir: not a directory holding an agent\n"
    )


def test_without_a_target_the_usage_error_names_the_four_choices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # It said "the following arguments are required: DIR, bridge_args" (an internal
    # name); DIR is now one of four targets.
    with pytest.raises(SystemExit) as info:
        main(["mcp", "serve"])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "viksa mcp serve: error: one of the arguments DIR --agent-id --agent-alias "
        "--all-deployed is required"
    )


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty viksa config dir, and no VIKSA_* variable but it."""
    for name in list(os.environ):
        if name.startswith("VIKSA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("VIKSA_CONFIG_DIR", str(tmp_path))
    return tmp_path


def test_a_folder_takes_no_platform_flags(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mcp", "serve", "examples/text_tools_agent", "--profile", "local"]) == 2
    assert capsys.readouterr().err == (
        "viksa mcp serve: DIR runs locally: --profile and the platform flags go with "
        "--agent-id, --agent-alias or --all-deployed\n"
    )


def test_deployed_agents_without_credentials_name_the_profile(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("viksa_ai.mcp_bridge")
    assert main(["mcp", "serve", "--agent-alias", "my_agent"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("viksa mcp serve: no Viksa credentials: run `viksa login`")
    assert "viksa dev --save-profile" in err
    assert main(["mcp", "serve", "--all-deployed", "--profile", "staging"]) == 2
    assert "no profile 'staging'" in capsys.readouterr().err


def test_refused_profile_credentials_end_the_bridge_naming_the_profile(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # viksa-mcp-bridge reads only VIKSA_* variables: `viksa mcp serve` reads the profile
    # `viksa dev --save-profile` wrote, as `viksa call` does.
    pytest.importorskip("viksa_ai.mcp_bridge")
    key = "vk-profile-secret-key-123"
    save_profile(
        "local",
        {"base_url": "https://platform.test", "api_key": key, "org_id": "o", "project_id": "p"},
    )
    with respx.mock(base_url="https://platform.test") as api:
        listing = api.get("/builder/agent/list").mock(
            return_value=httpx.Response(401, json={"detail": "Invalid API key"})
        )
        assert main(["mcp", "serve", "--all-deployed", "--refresh-interval", "0"]) == 2
    assert key in listing.calls[0].request.headers["authorization"]
    err = capsys.readouterr().err
    assert err.startswith("viksa mcp serve: the Viksa platform refused to list")
    assert "they come from profile 'local': run `viksa login --profile local`" in err
    assert key not in err


def test_bridge_options_and_targets_reach_the_bridge(monkeypatch: pytest.MonkeyPatch) -> None:
    bridge = pytest.importorskip("viksa_ai.mcp_bridge.cli")
    seen: list[tuple[list[str], Any]] = []

    def fake_main(argv: list[str], **options: Any) -> int:
        seen.append((argv, options))
        return 0

    monkeypatch.setattr(bridge, "main", fake_main)
    monkeypatch.setenv("VIKSA_API_KEY", "vk-env-key")
    options = ["--http", "--port", "9", "--refresh-interval", "5", "--log-level", "ERROR"]
    assert main(["mcp", "serve", "--agent-id", "agt1", *options]) == 0
    argv, given = seen[-1]
    expected = ["--agent-id", "agt1", "--refresh-interval", "5", "--http", "--port", "9"]
    assert argv == [*expected, "--log-level", "ERROR"]
    assert given["prog"] == "viksa mcp serve"
    assert given["refused_hint"].startswith("check VIKSA_API_KEY")
    assert "vk-env-key" not in repr(given)
    assert main(["mcp", "serve", "d", "--secret", "m.p=v", "--name", "x"]) == 0
    assert seen[-1] == (
        ["--path", "d", "--secret", "m.p=v", "--name", "x"],
        {"prog": "viksa mcp serve"},
    )
