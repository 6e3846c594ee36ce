"""What ``viksa run``, ``call`` and ``deploy`` read from their flags, read one way."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from viksa_ai.devtools._cli_common import CommandError
from viksa_ai.devtools._cli_values import collect_secrets, json_object, typed_value
from viksa_ai.devtools.cli import main

PROBE = Path(__file__).parent / "fixtures" / "runner_probe"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "--payload is not valid JSON: "),
        ("[1]", "--payload must be a JSON object, got list"),
        ("[" * 100_000 + "]" * 100_000, None),  # too deep, or not JSON: either way a 2
    ],
)
def test_a_flag_that_is_no_json_object_is_a_usage_error(text: str, message: str | None) -> None:
    with pytest.raises(CommandError) as raised:
        json_object(text, "--payload")
    assert raised.value.exit_code == 2
    assert str(raised.value).startswith(message or "--payload")


@settings(database=None, derandomize=True)
@given(st.text(max_size=60))
def test_any_text_is_an_object_or_a_usage_error(text: str) -> None:
    try:
        expected = json.loads(text)
    except (ValueError, RecursionError):
        expected = None
    if isinstance(expected, dict):
        assert json_object(text, "--envelope") == expected
    else:
        with pytest.raises(CommandError, match=r"^--envelope") as raised:
            json_object(text, "--envelope")
        assert raised.value.exit_code == 2


def test_secrets_come_from_the_file_then_each_flag(tmp_path: Path) -> None:
    file = tmp_path / "secrets"
    file.write_text("svc.key=from-file\nsvc.other=kept\n")
    args = argparse.Namespace(secrets_file=str(file), secrets=["svc.key=from-flag"])
    assert collect_secrets(args) == {"svc.key": "from-flag", "svc.other": "kept"}


def test_a_bad_secret_is_a_usage_error_that_never_shows_its_value(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as raised:
        collect_secrets(argparse.Namespace(secrets_file=None, secrets=["no-equals-s3cr3t"]))
    assert (raised.value.exit_code, str(raised.value)[:9]) == (2, "--secret:")
    assert "s3cr3t" not in str(raised.value)
    missing = tmp_path / "absent"
    with pytest.raises(CommandError, match="--secrets-file: cannot read"):
        collect_secrets(argparse.Namespace(secrets_file=str(missing), secrets=[]))


def test_a_typed_value_names_the_flag_as_the_user_wrote_it() -> None:
    assert typed_value("n=5", {"n": "integer"}) == ("n", 5)
    with pytest.raises(CommandError, match=r"^--input n: ") as raised:
        typed_value("n=five", {"n": "integer"}, flag="--input")
    assert raised.value.exit_code == 2
    with pytest.raises(CommandError, match=r"^-i m: no such input"):
        typed_value("m=1", {"n": "integer"})


def test_run_and_call_word_a_bad_payload_alike(capsys: pytest.CaptureFixture[str]) -> None:
    # Both read the flag before loading an agent or reaching a platform.
    assert main(["run", str(PROBE), "echo", "--payload", "[1]", "--format", "json"]) == 2
    run_error = capsys.readouterr().err
    assert main(["call", "some_agent", "echo", "--payload", "[1]"]) == 2
    call_error = capsys.readouterr().err
    for error in (run_error, call_error):
        assert "--payload must be a JSON object, got list" in error


def test_run_and_deploy_word_a_bad_secret_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = "--secret=svc-without-a-param=x"
    assert main(["run", str(PROBE), "echo", bad, "--format", "json"]) == 2
    run_error = capsys.readouterr().err
    assert main(["deploy", str(tmp_path), bad]) == 2
    deploy_error = capsys.readouterr().err
    message = run_error[run_error.index("--secret: ") :].split('"')[0]
    assert message in deploy_error
