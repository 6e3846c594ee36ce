"""``viksa run``: the examples and the probe agent through the command line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from viksa_ai.devtools._cli_run import parse_input_assignment
from viksa_ai.devtools._json import dumps_json
from viksa_ai.devtools.cli import main

ROOT = Path(__file__).resolve().parents[3]
AVIATION = ROOT / "examples" / "aviation_agent"
TEXT_TOOLS = ROOT / "examples" / "text_tools_agent"
PROBE = Path(__file__).parent / "fixtures" / "runner_probe"


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, Any, str]:
    """Run ``viksa run ARGV``: the exit code, the parsed stdout and the raw stderr."""
    code = main(["run", *map(str, argv)])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else None, captured.err


def error_of(stderr: str) -> dict[str, Any]:
    """The JSON error document that ends stderr."""
    document: dict[str, Any] = json.loads(stderr[stderr.rindex('{\n  "error"') :])
    return document["error"]  # type: ignore[no-any-return]


# --- the examples ----------------------------------------------------------------------


@pytest.mark.parametrize("example", [AVIATION, TEXT_TOOLS])
def test_examples_are_valid(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(example)]) == 0, capsys.readouterr()


def test_aviation_example_stops_at_the_missing_api_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        AVIATION,
        "get_flights_between",
        "--input",
        "source=JFK",
        "--input",
        "destination=LAX",
    )

    assert code == 4
    assert out is None
    error = error_of(err)
    assert error["kind"] == "auth_not_configured"
    assert error["endpoint"] == "get_flights_between"
    assert (error["method_id"], error["param_name"]) == ("aviationstack_api", "api_key")
    assert "aviationstack_api" in error["message"]
    assert error["hint"] == (
        "pass --secret aviationstack_api.api_key=VALUE, "
        "or a line aviationstack_api.api_key=VALUE in a --secrets-file"
    )


def test_aviation_example_checks_its_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, AVIATION, "get_flights_between", "--payload", '{"source": "jfk"}')

    assert code == 3
    error = error_of(err)
    assert error["kind"] == "invalid_input"
    assert {issue["input"] for issue in error["issues"]} == {"source", "destination"}


def test_text_tools_word_stats(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        TEXT_TOOLS,
        "word_stats",
        "-i",
        "text=to be or not to be",
        "-i",
        "top=2",
        "--envelope",
        '{"run_id": "run-7"}',
    )

    assert code == 0
    assert out == {
        "words": 6,
        "unique": 4,
        "top": [{"word": "to", "count": 2}, {"word": "be", "count": 2}],
        "run_id": "run-7",
    }


def test_text_tools_slugify_by_full_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        TEXT_TOOLS,
        "text_tools.main.slugify",
        "--payload",
        '{"text": "Héllo, Wörld: 2 Agents!", "separator": "_"}',
    )
    assert code == 0
    assert out == {"slug": "hello_world_2_agents"}


def test_path_may_be_the_manifest_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, TEXT_TOOLS / "agent.json", "slugify", "-i", "text=A B")
    assert code == 0
    assert out == {"slug": "a-b"}


@pytest.mark.parametrize("file_format", ["json", "lines"])
def test_text_tools_sign_message_with_a_secrets_file(
    file_format: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "s3cr3t-signing-key"
    secrets_file = tmp_path / "secrets"
    if file_format == "json":
        secrets_file.write_text(json.dumps({"signing_key": {"secret": secret}}))
    else:
        secrets_file.write_text(f"# local key\nsigning_key.secret='{secret}'\n")

    code, out, err = run(
        capsys,
        TEXT_TOOLS,
        "sign_message",
        "-i",
        "message=hello",
        "--secrets-file",
        secrets_file,
        "--envelope",
        '{"run_id": "r", "caller_agent": "planner"}',
    )

    assert code == 0
    assert out["algorithm"] == "hmac-sha256"
    assert len(out["signature"]) == 64
    assert (out["run_id"], out["caller_agent"]) == ("r", "planner")
    assert secret not in err


def test_text_tools_sign_message_without_its_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, TEXT_TOOLS, "sign_message", "-i", "message=hello")
    assert code == 4
    assert error_of(err)["kind"] == "auth_not_configured"


def test_text_tools_rejects_values_outside_the_constraints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(
        capsys,
        TEXT_TOOLS,
        "sign_message",
        "-i",
        "message=hi",
        "-i",
        "algorithm=md5",
        "--secret",
        "signing_key.secret=k",
    )
    assert code == 3
    assert [issue["input"] for issue in error_of(err)["issues"]] == ["algorithm"]


def test_stdout_of_the_command_holds_only_the_result() -> None:
    # A real process: the agent writes to stdout, stderr, fd 1 and from a subprocess.
    completed = subprocess.run(
        [sys.executable, "-m", "viksa_ai.devtools.cli", "run", str(PROBE), "noisy", "-i", "note=x"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == {"noisy": True, "note": "x"}
    for line in ("printed to stdout", "printed to stderr", "from a subprocess"):
        assert line in completed.stderr


# --- exit codes ------------------------------------------------------------------------


def test_endpoint_exception_exits_5_with_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, PROBE, "boom", "-i", "note=cli")

    assert code == 5
    assert out is None
    error = error_of(err)
    assert error["kind"] == "endpoint_error"
    assert error["exception_type"] == "ValueError"
    assert "probe exploded: cli" in error["traceback"]


def test_timeout_exits_6(capsys: pytest.CaptureFixture[str]) -> None:
    # The timeout covers the child's start too: long enough for the import to finish.
    code, _, err = run(capsys, PROBE, "nap", "-i", "seconds=20", "--timeout", "3")
    assert code == 6
    assert error_of(err) | {"message": ""} == {
        "kind": "timeout",
        "message": "",
        "endpoint": "nap",
        "timeout_seconds": 3,
        "stage": "call",
    }


def test_dead_worker_exits_7(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, PROBE, "crash")
    assert code == 7
    assert error_of(err)["returncode"] == 3


@pytest.mark.parametrize(
    ("argv", "kind"),
    [
        (["missing-dir", "echo"], "invalid_agent"),
        ([PROBE, "no_such_endpoint"], "endpoint_not_found"),
        ([PROBE, "echo", "--payload", "{bad"], "usage"),
        ([PROBE, "echo", "--payload", "[1]"], "usage"),
        ([PROBE, "echo", "--input", "novalue"], "usage"),
        ([PROBE, "echo", "--envelope", "3"], "usage"),
        ([PROBE, "echo", "--secret", "Bad.Name=x"], "usage"),
        ([PROBE, "echo", "--secrets-file", "/nonexistent/secrets"], "usage"),
        ([PROBE, "echo", "--payload-file", "/nonexistent/payload.json"], "usage"),
        # JSON nested deeper than Python's parser recurses: a usage error, not a traceback.
        ([PROBE, "echo", "--payload", '{"a":' + "[" * 5000 + "]" * 5000 + "}"], "usage"),
        ([PROBE, "echo", "--envelope", '{"a":' + "[" * 5000 + "]" * 5000 + "}"], "usage"),
        ([PROBE, "echo", "--input", "count=" + "[" * 5000 + "]" * 5000], "usage"),
    ],
)
def test_usage_and_agent_errors_exit_2(
    argv: list[Any], kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out is None
    assert error_of(err)["kind"] == kind


def test_an_invalid_envelope_is_invalid_input_naming_the_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, PROBE, "echo", "--envelope", '{"run_id": 1}')
    assert (code, out) == (3, None)
    error = error_of(err)
    assert error["kind"] == "invalid_input"
    [issue] = error["issues"]
    assert (issue["code"], issue["path"]) == ("VX501", "__viksa_a2a__.run_id")
    assert "'run_id'" in error["message"]


def test_bad_timeout_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run", str(PROBE), "echo", "--timeout", "-1"])
    assert caught.value.code == 2
    assert "positive" in capsys.readouterr().err


# --- inputs, envelope and secrets ------------------------------------------------------


def test_inputs_merge_file_then_payload_then_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload_file = tmp_path / "payload.json"
    payload_file.write_text('{"note": "file", "count": 1, "mode": "fast"}')

    code, out, _ = run(
        capsys,
        PROBE,
        "echo",
        "--payload-file",
        payload_file,
        "--payload",
        '{"count": 2, "code": "ABC"}',
        "-i",
        "count=3",
    )

    assert code == 0
    assert out["payload"] == {"note": "file", "count": 3, "mode": "fast", "code": "ABC"}


def test_payload_file_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"note": "piped"}'))
    code, out, _ = run(capsys, PROBE, "echo", "--payload-file", "-")
    assert code == 0
    assert out["payload"] == {"note": "piped"}


def test_envelope_in_the_payload_is_stripped(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, PROBE, "echo", "--payload", '{"note": "n", "__viksa_a2a__": {"run_id": "p"}}'
    )
    assert code == 0
    assert out["payload"] == {"note": "n"}
    assert out["context"] == {"run_id": "p"}


def test_secrets_reach_the_agent_and_never_the_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets_file = tmp_path / ".secrets"
    secrets_file.write_text("probe_auth.token=from-file\nprobe_oauth.client_id=cid\n")

    code, _, err = run(
        capsys,
        PROBE,
        "leaky",
        "--secrets-file",
        secrets_file,
        "--secret",
        "probe_auth.token=from-flag-wins",
    )

    assert code == 5
    assert "from-flag-wins" not in err
    assert "from-file" not in err
    assert "key=***" in error_of(err)["message"]


def test_secret_flags_set_the_enabled_methods(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, PROBE, "echo", "--secret", "probe_auth.token=t")
    assert code == 0
    assert out["enabled"] == ["probe_auth"]
    assert out["configured"] == ["probe_auth", "probe_oauth"]


def test_help_documents_formats_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run", "--help"])
    assert caught.value.code == 0
    text = capsys.readouterr().out
    for fragment in ("--secrets-file", "METHOD.PARAM=VALUE", "4 auth not configured", "stderr"):
        assert fragment in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("JFK", "--input 'JFK' has no '=': give each input as KEY=VALUE, e.g. --input source=JFK"),
        (
            "=LAX",
            "--input '=LAX' has no KEY before '=': give each input as KEY=VALUE, e.g. "
            "--input source=JFK",
        ),
    ],
)
def test_an_input_without_a_key_says_so_once(
    text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, PROBE, "echo", "--input", text)
    assert code == 2
    assert error_of(err) == {"kind": "usage", "message": message}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n=5", ("n", 5)),
        ("flag=true", ("flag", True)),
        ("code=JFK", ("code", "JFK")),
        ("code=007", ("code", "007")),
        ('q="5"', ("q", "5")),
        ('obj={"a": [1]}', ("obj", {"a": [1]})),
        ("eq=a=b", ("eq", "a=b")),
        ("empty=", ("empty", "")),
    ],
)
def test_input_values_are_json_when_they_parse(text: str, expected: tuple[str, Any]) -> None:
    assert parse_input_assignment(text) == expected


@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]*", fullmatch=True), st.text())
def test_any_input_value_parses(key: str, value: str) -> None:
    parsed_key, parsed = parse_input_assignment(f"{key}={value}")
    assert parsed_key == key
    try:
        expected = json.loads(value)
    except ValueError:
        assert parsed == value
    else:
        # Compared as JSON text: NaN (which Python's parser accepts) is not equal to itself.
        assert json.dumps(parsed) == json.dumps(expected)


NON_FINITE_MAIN = """
from viksa_ai.runtime import mcp_endpoint


@mcp_endpoint(description="Answer numbers JSON has no spelling for")
async def odd(payload):
    return {"nan": float("nan"), "inf": [float("inf"), -1e999], "ok": 1.5, "text": "é"}
"""


def test_non_finite_results_print_as_null_like_the_platform(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = {
        "agent_name": "Odd",
        "agent_description": "Returns non-finite numbers",
        "files": [{"name": "main.py", "content": NON_FINITE_MAIN, "mime_type": "python"}],
        "agent_endpoints": [{"name": "odd", "module": "main", "description": "odd"}],
    }
    (tmp_path / "agent.json").write_text(json.dumps(agent))
    assert main(["run", str(tmp_path), "odd"]) == 0
    printed = capsys.readouterr().out
    # Strict JSON, as test_platform_pulse.py checks the platform's answer to be.
    assert json.loads(printed, parse_constant=_refuse) == {
        "nan": None,
        "inf": [None, None],
        "ok": 1.5,
        "text": "é",
    }


def _refuse(constant: str) -> None:
    raise AssertionError(f"not strict JSON: it holds {constant}")


def test_dumps_json_is_strict_and_keeps_the_shape() -> None:
    value = {"a": (1, float("nan")), "b": {"c": [float("-inf"), "x"]}, "d": 2.5}
    assert dumps_json(value) == '{"a":[1,null],"b":{"c":[null,"x"]},"d":2.5}'
    assert dumps_json({"k": [1]}, indent=2) == json.dumps({"k": [1]}, indent=2)
    with pytest.raises(TypeError):
        dumps_json({"k": object()})


def test_a_deeply_nested_secrets_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = tmp_path / "secrets.json"
    secrets.write_text('{"a":' + "[" * 5000 + "]" * 5000 + "}")
    code, out, err = run(capsys, PROBE, "echo", "--secrets-file", secrets)
    assert (code, out, error_of(err)["kind"]) == (2, None, "usage")
    assert "nested too deeply" in error_of(err)["message"]


def test_dumps_json_reports_a_cycle_as_json_dumps_does() -> None:
    loop: list[Any] = []
    loop.append(loop)
    # With and without a non-finite number, which takes the slow path.
    for value in (loop, {"a": loop}, [float("nan"), loop]):
        with pytest.raises(ValueError, match="Circular reference"):
            dumps_json(value)
    shared = [1]
    assert dumps_json([shared, shared, float("nan")]) == "[[1],[1],null]"


_FLOAT_KEYS = st.floats() | st.text(max_size=3) | st.integers() | st.booleans() | st.none()
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(_FLOAT_KEYS, inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_JSON_VALUES, st.sampled_from([None, 2]))
@example({float("nan"): 1.0, float("-inf"): [float("inf")]}, None)
def test_dumps_json_is_strict_json_of_any_value(value: Any, indent: int | None) -> None:
    text = dumps_json(value, indent=indent)
    # What the child's json.dumps sends with NaN allowed, with each NaN as null.
    expected = json.loads(json.dumps(value), parse_constant=lambda _: None)
    assert json.loads(text, parse_constant=_refuse) == expected


# --- input files are bounded; the sandbox notice --------------------------------------


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("option", ["--payload-file", "--secrets-file"])
def test_an_endless_input_file_is_a_usage_error(
    option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, PROBE, "echo", option, "/dev/zero")
    assert code == 2
    assert out is None
    error = error_of(err)
    assert error["kind"] == "usage"
    assert (
        error["message"] == f"{option}: /dev/zero holds more than 64 MiB: is this the right file?"
    )


def test_an_input_file_at_the_limit_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from viksa_ai.devtools import _cli_values

    payload = tmp_path / "payload.json"
    payload.write_text('{"note": "fits"}')
    monkeypatch.setattr(_cli_values, "MAX_INPUT_FILE_BYTES", len(payload.read_bytes()))
    code, out, _ = run(capsys, PROBE, "echo", "--payload-file", payload)
    assert code == 0
    assert out["note"] == "fits"
    payload.write_text('{"note": "fits!"}')
    code, _, err = run(capsys, PROBE, "echo", "--payload-file", payload)
    assert code == 2
    assert "holds more than" in error_of(err)["message"]


def test_without_a_sandbox_viksa_run_says_so_once_on_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIKSA_BWRAP", "/nonexistent/bwrap")
    monkeypatch.setenv("VIKSA_UNSHARE", "/nonexistent/unshare")
    code, out, err = run(capsys, PROBE, "echo", "-i", "note=n")
    assert code == 0
    assert out["note"] == "n"
    assert err.count("agents run unsandboxed") == 1
    assert err.startswith("viksa run: sandbox none available")


def test_no_sandbox_is_quiet_and_runs_unsandboxed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, PROBE, "echo", "--no-sandbox")
    assert code == 0
    assert err == ""
    # Unsandboxed, the agent's pid is a pid of this machine's namespace (in the
    # sandbox it is 2, under the sandbox's own init).
    assert out["pid"] > 2
