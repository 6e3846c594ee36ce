"""``viksa-mcp-bridge``'s command line: one readable line for every setup mistake."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from viksa_ai.mcp_bridge.cli import main

_INSTALL = 'pip install "viksa-ai[mcp]"'


@pytest.fixture(autouse=True)
def no_viksa_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("VIKSA_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "choose one target: --agent-id ID, --agent-alias ALIAS, --all-deployed or --path DIR"),
        (["--agent-id", "a", "--all-deployed"], "(several were given)"),
        (["--agent-id", "a", "--secret", "m.p=v"], "--secret and --secrets-file go with --path"),
        (["--path", "x", "--agent-id", "a"], "--path serves a folder"),
        (["--path", "no/such/dir"], "--path no/such/dir: not a directory holding an agent"),
        (["--all-deployed", "--refresh-interval", "-1"], "--refresh-interval must be 0 or more"),
    ],
)
def test_usage_mistakes_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("viksa-mcp-bridge: ")
    assert message in err


def test_the_environment_selects_the_agents_and_the_interval(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIKSA_MCP_REFRESH_INTERVAL", "soon")
    monkeypatch.setenv("VIKSA_MCP_ALL_DEPLOYED", "1")
    assert main([]) == 2
    assert "VIKSA_MCP_REFRESH_INTERVAL must be a number of seconds" in capsys.readouterr().err


def test_missing_credentials_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIKSA_AGENT_ID", "agt1")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "VIKSA_API_KEY" in err


def test_a_secret_that_does_not_parse_names_the_flag_not_the_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--path", "examples/text_tools_agent", "--secret", "hunter2"]) == 2
    err = capsys.readouterr().err
    assert "secrets: a secret is given as METHOD.PARAM=VALUE" in err
    assert "hunter2" not in err


def _without_mcp(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys\nsys.modules['mcp'] = None\n" + code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_without_the_mcp_sdk_the_import_names_the_install() -> None:
    done = _without_mcp("import viksa_ai.mcp_bridge")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "ImportError: viksa_ai.mcp_bridge needs the official MCP SDK (the mcp package), "
        f"which is not installed: {_INSTALL}"
    )


def test_without_the_mcp_sdk_the_script_says_one_line() -> None:
    done = _without_mcp(
        "sys.argv[0] = '/venv/bin/viksa-mcp-bridge'\nfrom viksa_ai.mcp_bridge.cli import main"
    )
    assert done.returncode == 2
    assert done.stderr == (
        "viksa-mcp-bridge: viksa_ai.mcp_bridge needs the official MCP SDK (the mcp package), "
        f"which is not installed: {_INSTALL}\n"
    )


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_port_out_of_range_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], port: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--all-deployed", "--http", "--port", port])
    assert info.value.code == 2
    assert "argument --port: " in capsys.readouterr().err
