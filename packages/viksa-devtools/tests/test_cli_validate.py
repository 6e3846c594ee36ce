"""``viksa validate`` / ``viksa-agent-validate``: output formats and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools import cli

MAIN = """\
from ViksaAI import mcp_endpoint


@mcp_endpoint(description="Echo")
async def echo(payload):
    return {"text": payload["text"]}
"""


def manifest(main: str | None = MAIN, **fields: Any) -> dict[str, Any]:
    files = [] if main is None else [{"name": "main.py", "content": main, "mime_type": "python"}]
    data: dict[str, Any] = {
        "agent_name": "Echo",
        "agent_description": "Echoes",
        "files": files,
        "inputs": [{"name": "text", "type": "string"}],
        "outputs": [{"name": "text", "type": "string"}],
        "agent_endpoints": [
            {
                "name": "echo",
                "module": "main",
                "description": "Echo",
                "inputs": [{"input_ref": "text"}],
                "outputs": ["text"],
            }
        ],
    }
    data.update(fields)
    return data


def agent_dir(root: Path, name: str, data: Any, main_py: str | None = None) -> Path:
    directory = root / name
    directory.mkdir()
    (directory / "agent.json").write_text(json.dumps(data), encoding="utf-8")
    if main_py is not None:
        (directory / "main.py").write_text(main_py, encoding="utf-8")
    return directory


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = cli.main(["validate", *(str(arg) for arg in argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_valid_agent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = agent_dir(tmp_path, "echo", manifest())
    assert run(capsys, directory) == (0, f"{directory}: valid\n", "")


def test_invalid_agent_lists_every_issue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = MAIN.replace('payload["text"]', 'payload["txt"]').replace("async def", "def")
    data = manifest(broken, outputs=[])
    directory = agent_dir(tmp_path, "echo", data)
    code, out, err = run(capsys, directory)
    manifest_path = directory / "agent.json"
    assert code == 1
    assert err == ""
    assert out.splitlines() == [
        f"{manifest_path}:agent_endpoints[0].outputs[0]: VX109 output 'text' is not a "
        "declared output: add an output named 'text' to outputs, or fix the name",
        f"{manifest_path}:files[0]:5:1: VX211 endpoint function 'echo' is not async: define "
        "it with `async def` (the platform awaits every endpoint)",
        f"{manifest_path}:files[0]:6:21: VX301 'echo' reads payload key 'txt', which is not a "
        "declared input (did you mean 'text'?): declare it in inputs and reference it from "
        "agent_endpoints[0].inputs, or stop reading it",
        f"{manifest_path}:agent_endpoints[0].inputs[0]: VX302 function 'echo' (main.py line 5) "
        "never reads required input 'text': read it from the payload, or remove the reference",
        f"{directory}: invalid (4 errors)",
    ]


def test_main_py_beside_agent_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = agent_dir(tmp_path, "echo", manifest(None), MAIN.replace('["text"]', '["t"]'))
    code, out, _ = run(capsys, directory)
    assert code == 1
    assert out.splitlines()[0].startswith(f"{directory / 'main.py'}:6:21: VX301 ")


def test_embedded_main_py_wins_over_the_file_beside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = agent_dir(tmp_path, "echo", manifest(), "this is not python")
    assert run(capsys, directory)[0] == 0


def test_json_file_and_several_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(manifest()))
    bad = agent_dir(tmp_path, "bad", manifest(agent_endpoints=[]))
    code, out, _ = run(capsys, good, bad)
    assert code == 1
    assert out.splitlines()[-3:] == [
        f"{good}: valid",
        f"{bad}: invalid (1 error, 2 warnings)",
        "1 of 2 agents valid",
    ]


def test_warnings_strict_and_hidden(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = manifest(inputs=[{"name": "text", "type": "string"}, {"name": "x", "type": "string"}])
    directory = agent_dir(tmp_path, "echo", data)
    code, out, _ = run(capsys, directory)
    assert code == 0
    assert out.splitlines() == [
        f"{directory / 'agent.json'}:inputs[1]: VX303 (warning) no endpoint references or "
        "reads input 'x': reference it from an endpoint's inputs, or remove it",
        f"{directory}: valid (1 warning)",
    ]
    assert run(capsys, directory, "--strict")[:2] == (1, out.replace(": valid", ": invalid"))
    assert run(capsys, directory, "--no-warnings")[:2] == (0, f"{directory}: valid\n")
    # Hidden warnings still fail --strict, and the output says so.
    hidden = f"{directory}: invalid (1 hidden warning)\n"
    assert run(capsys, directory, "--strict", "--no-warnings")[:2] == (1, hidden)
    code, out, _ = run(capsys, directory, "--strict", "--no-warnings", "--format", "json")
    assert (code, json.loads(out)["valid"]) == (1, False)


def test_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = agent_dir(tmp_path, "echo", manifest(MAIN + "\nreturn 1\n"))
    missing = tmp_path / "missing"
    code, out, err = run(capsys, directory, missing, "--format", "json")
    assert code == 2
    assert err == f"viksa validate: {missing}: no such file or directory\n"
    document = json.loads(out)
    assert document["valid"] is False
    agent, unreadable = document["agents"]
    assert unreadable == {
        "path": str(missing),
        "valid": False,
        "error": f"{missing}: no such file or directory",
    }
    assert (agent["valid"], agent["errors"], agent["warnings"]) == (False, 1, 0)
    (issue,) = agent["issues"]
    assert issue == {
        "code": "VX202",
        "severity": "error",
        "message": "Python refuses to compile main.py: 'return' outside function",
        "path": "files[0]",
        "file": "main.py",
        "line": 8,
        "column": 1,
        "input": None,
        "location": f"{directory / 'agent.json'}:files[0]:8:1",
    }


def test_github_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    beside = agent_dir(tmp_path, "beside", manifest(None), MAIN.replace("async def", "def"))
    embedded = agent_dir(tmp_path, "embedded", manifest(MAIN.replace("async def", "def")))
    code, out, _ = run(capsys, beside, embedded, "--format", "github")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        f"::error file={beside / 'main.py'},line=5,col=1,title=VX211::endpoint function "
        "'echo' is not async: define it with `async def` (the platform awaits every endpoint)"
    )
    assert lines[2].startswith(
        f"::error file={embedded / 'agent.json'},title=VX211::files[0] line 5:1: endpoint"
    )


def test_github_escapes() -> None:
    from viksa_ai.devtools._cli_validate import _escape_data, _escape_property

    assert _escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert _escape_property("a:b,c") == "a%3Ab%2Cc"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "the manifest must be a JSON object (AgentGenerationResponse), not a list"),
        ('{"agent_name": ', "1:16: not valid JSON: Expecting value"),
        ("", "1:1: not valid JSON: Expecting value"),
        ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply to read"),
    ],
)
def test_unreadable_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "agent.json"
    path.write_text(content)
    code, out, err = run(capsys, tmp_path)
    assert (code, out) == (2, "")
    assert err.startswith(f"viksa validate: {path}")
    assert message in err
    assert err.count("\n") == 1


def test_not_utf8_and_directories_without_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "agent.json").write_bytes(b'{"agent_name": "\xff"}')
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(capsys, tmp_path, empty)
    assert code == 2
    assert err.splitlines() == [
        f"viksa validate: {tmp_path / 'agent.json'}: not UTF-8 text (bad byte at offset 16): "
        "save it as UTF-8",
        f"viksa validate: {empty}: no agent.json in this folder or any folder below it: "
        "pass an agent folder (agent.json with its main.py), a JSON manifest file, or a "
        "folder of agent folders; `viksa init PATH` creates an agent",
    ]
    assert out == "0 of 2 agents valid, 2 unreadable\n"


def test_main_py_beside_with_a_coding_cookie(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = agent_dir(tmp_path, "echo", manifest(None))
    source = "# -*- coding: latin-1 -*-\n" + MAIN.replace("Echo", "Écho")
    (directory / "main.py").write_bytes(source.encode("latin-1"))
    assert run(capsys, directory)[0] == 0
    (directory / "main.py").write_bytes(b"x = '\xff'\n")
    code, _, err = run(capsys, directory)
    assert code == 2
    assert "cannot decode it" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["validate"], ["validate", ".", "--format", "xml"]):
        with pytest.raises(SystemExit) as caught:
            cli.main(argv)
        assert caught.value.code == 2
    assert "usage: viksa validate" in capsys.readouterr().err


def test_help_names_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["validate", "--help"])
    assert caught.value.code == 0
    assert "0 all valid, 1 some agent invalid, 2 usage error" in capsys.readouterr().out


def test_viksa_agent_validate_is_the_same_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = agent_dir(tmp_path, "echo", manifest())
    assert cli.validate_main([str(directory), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True


def test_viksa_agent_validate_names_itself_in_help_and_usage_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as help_exit:
        cli.validate_main(["--help"])
    assert help_exit.value.code == 0
    assert capsys.readouterr().out.startswith("usage: viksa-agent-validate [-h]")
    with pytest.raises(SystemExit) as usage_exit:
        cli.validate_main([])
    assert usage_exit.value.code == 2
    assert "viksa-agent-validate: error:" in capsys.readouterr().err


def test_installed_script_runs_in_a_subprocess(tmp_path: Path) -> None:
    script = shutil.which("viksa-agent-validate", path=str(Path(sys.executable).parent))
    assert script is not None, "viksa-agent-validate is not installed in this environment"
    directory = agent_dir(tmp_path, "echo", manifest(MAIN.replace("async def", "def")))
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [script, str(directory)], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 1
    assert f"{directory}: invalid (1 error)" in result.stdout
    assert result.stderr == ""
    missing = subprocess.run(
        [script, str(tmp_path / "nope")], capture_output=True, text=True, timeout=120, env=env
    )
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    assert missing.stderr.strip().endswith("no such file or directory")


def test_paths_the_system_refuses_are_unreadable_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    too_long = tmp_path / ("a" * 5000)  # ENAMETOOLONG from stat(), not "missing"
    code, out, err = run(capsys, too_long)
    assert code == 2
    assert err.startswith("viksa validate: ")
    assert err.rstrip().endswith("cannot read it (File name too long)")
    assert err.count("\n") == 1
    assert out == ""


def test_only_regular_files_are_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A FIFO would block the read forever and /dev/zero never ends.
    (tmp_path / "agent.json").mkdir()
    targets: list[Path] = [tmp_path, Path(os.devnull)]
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.json"
        os.mkfifo(fifo)
        targets.append(fifo)
    code, _, err = run(capsys, *targets)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == len(targets)
    assert all(
        line.endswith("not a regular file: pass an agent directory or its JSON manifest")
        for line in lines
    )


@pytest.mark.parametrize("output_format", ["text", "github"])
def test_escape_sequences_in_a_manifest_reach_the_terminal_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    # A manifest is anyone's: names it quotes back (a module, an endpoint) must not make
    # the terminal clear the screen, retitle the window or set the clipboard.
    data = manifest()
    data["agent_endpoints"][0]["module"] = "mod\x1b[2J\x1b]52;c;eA==\x07"
    directory = agent_dir(tmp_path, "echo", data)
    code, out, _ = run(capsys, directory, "--format", output_format)
    assert code == 1
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "mod\\u001b[2J\\u001b]52;c;eA==\\u0007" in out
