"""Bad input to any new subcommand: a message and an exit code, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from viksa_ai.devtools.cli import main, validate_main

COMMANDS = ["init", "validate", "schema", "completion", "call", "deploy", "login", "logout"]
TOKENS = [
    "",
    "-",
    "x",
    "a" * 300,
    "my_agent",
    "greet",
    "-i",
    "k=v",
    "=",
    "name=",
    "--payload",
    "{",
    "[1]",
    '{"a": 1}',
    "--envelope",
    "--secret",
    "a.b=c",
    "nodot=c",
    "--secrets-file",
    "/nonexistent/file",
    "--format",
    "json",
    "sarif",
    "--name",
    "--profile",
    "--api-key",
    "--base-url",
    "notaurl",
    "--output",
    "--files",
    "--timeout",
    "0",
    "bash",
    "é\u2028",
]


@pytest.fixture(autouse=True)
def no_credentials(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Once for all the examples hypothesis runs in the one call of the test.
    for name in ("VIKSA_API_KEY", "VIKSA_ACCESS_TOKEN", "VIKSA_EMAIL", "VIKSA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VIKSA_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@settings(
    database=None,
    derandomize=True,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.sampled_from(COMMANDS), st.lists(st.sampled_from(TOKENS), max_size=6))
def test_any_arguments_end_in_an_exit_code(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    args: list[str],
) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = main([command, *args])
    except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
        code = exc.code  # type: ignore[assignment]
        assert code in (0, 2)
    finally:
        os.chdir(cwd)
    assert code in (0, 1, 2, 3)
    _, err = capsys.readouterr()
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["validate", "--bogus", "x"], "viksa validate: error: unrecognized arguments: --bogus"),
        (["run", "my_agent", "greet", "--bogus"], "viksa run: error: unrecognized arguments"),
        (["mcp", "serve", "--bogus", "x"], "viksa mcp serve: error: unrecognized arguments"),
    ],
)
def test_an_unknown_flag_is_reported_by_its_subcommand(
    capsys: pytest.CaptureFixture[str], argv: list[str], usage: str
) -> None:
    # The top-level usage ("viksa [-h] [--version] COMMAND ...") would not show the
    # flags the subcommand does take.
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert usage in err
    assert f"usage: viksa {' '.join(argv[:2] if argv[0] == 'mcp' else argv[:1])} [-h]" in err


def test_viksa_agent_validate_reports_an_unknown_flag_with_its_own_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        validate_main(["--bogus", "x"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "{validate}" not in err
    assert "usage: viksa-agent-validate [-h] [--format" in err
    assert "viksa-agent-validate: error: unrecognized arguments: --bogus" in err


@pytest.mark.parametrize(
    "command",
    [["call", "my_agent", "greet", "--format", "text"], ["deploy", "my_agent"], ["login"]],
)
@pytest.mark.parametrize("url", ["notaurl", "ftp://example.com", "http://[::1"])
def test_a_bad_base_url_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], url: str
) -> None:
    # Exit 2 is "usage error" in the commands' --help; 1 means the platform failed.
    main(["init", str(tmp_path / "my_agent")])
    capsys.readouterr()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = main([*command, "--base-url", url, "--api-key", "vk_test"])
    finally:
        os.chdir(cwd)
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert f"base_url must be an http(s) URL such as 'https://api.viksaai.com', got {url!r}" in err
    assert "--base-url" in err


@pytest.mark.parametrize("command", [["call", "my_agent", "greet"], ["deploy", "my_agent"]])
@pytest.mark.parametrize("variable", ["VIKSA_API_KEY", "VIKSA_ORG_ID"])
def test_an_unsendable_credential_names_where_it_came_from_never_the_base_url(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    variable: str,
) -> None:
    main(["init", str(tmp_path / "my_agent")])
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIKSA_API_KEY", "vk_test")
    monkeypatch.setenv(variable, "vk_pasted\nwith a line break")
    assert main([*command, "--base-url", "http://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "cannot travel in an HTTP header" in err
    assert "--base-url" not in err  # the URL was fine: it misled the reader
    assert "vk_pasted" not in err


@pytest.mark.parametrize(
    ("arguments", "code", "kind"),
    [
        (["--payload", "[1]"], 2, "usage"),
        (["--timeout", "0"], 2, "usage"),
        (["--base-url", "notaurl"], 2, "usage"),
        (["--base-url", "http://127.0.0.1:1"], 1, "platform_error"),  # nothing listens
    ],
)
def test_every_failure_of_call_is_json_when_piped(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    code: int,
    kind: str,
) -> None:
    # As viksa run: a script reading the JSON of a pipe got plain text for these.
    monkeypatch.setenv("VIKSA_API_KEY", "vk_test")
    assert main(["call", "my_agent", "greet", *arguments]) == code
    captured = capsys.readouterr()
    assert captured.out == ""
    error = json.loads(captured.err)["error"]
    assert error["kind"] == kind
    assert error["message"]
    assert "vk_test" not in captured.err


def test_call_help_lists_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    from viksa_ai.devtools._cli_call import _EXIT_OF_KIND

    with pytest.raises(SystemExit):
        main(["call", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for code in (0, 1, 2, *_EXIT_OF_KIND.values()):
        assert f", {code} " in text or f": {code} " in text, code


def test_an_api_error_with_an_html_page_is_one_line() -> None:
    # A base URL that is some other web server answers its own 404 page.
    import httpx

    from viksa_ai.client import ViksaNotFoundError, raise_for_response
    from viksa_ai.devtools._cli_common import api_error_message

    page = "<!DOCTYPE HTML>\n<html>\n  <body>\n    <h1>Error response</h1>\n" + "x" * 900
    with pytest.raises(ViksaNotFoundError) as info:
        raise_for_response(
            httpx.Response(404, html=page), service="builder", method="GET", path="/x"
        )
    message = api_error_message(info.value)
    assert "\n" not in message
    assert message.startswith("builder GET /x -> 404: <!DOCTYPE HTML> <html> <body>")
    assert len(message) < 400
    assert message.endswith("(an HTML page, not the Viksa API: check --base-url)")
