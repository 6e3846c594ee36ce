"""``viksa mcp serve DIR``: hands the folder to the MCP bridge, or names its install."""

from __future__ import annotations

import sys

import pytest

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


def test_a_missing_folder_names_only_the_folder(capsys: pytest.CaptureFixture[str]) -> None:
    # It said "the following arguments are required: DIR, bridge_args": an internal name,
    # for options that are optional.
    with pytest.raises(SystemExit) as info:
        main(["mcp", "serve"])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "viksa mcp serve: error: the following arguments are required: DIR"
    )
