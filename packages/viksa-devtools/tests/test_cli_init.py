"""``viksa init``, ``viksa schema``, ``viksa --version`` and ``viksa completion``."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from viksa_ai.devtools._scaffold import SCHEMA_URL, alias_for
from viksa_ai.devtools.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_version_prints_the_sdk_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith("viksa 0.3.0 (Python 3.")


def test_init_scaffolds_a_valid_agent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "weather-bot"
    code, out, err = run(capsys, "init", target, "--name", "Weather Bot")
    assert (code, err) == (0, "")
    assert "Created agent weather_bot" in out
    assert sorted(p.name for p in target.iterdir()) == [
        "agent.json",
        "main.py",
        "pytest.ini",
        "test_agent.py",
    ]
    manifest = json.loads((target / "agent.json").read_text())
    assert manifest["$schema"] == SCHEMA_URL
    assert manifest["agent_alias"] == "weather_bot"
    assert manifest["agent_name"] == "Weather Bot"
    assert [e["endpoint"] for e in manifest["agent_endpoints"]] == ["weather_bot.main.greet"]
    assert "weather_bot.main.greet" in (target / "test_agent.py").read_text()
    code, out, err = run(capsys, "validate", target)
    assert (code, out, err) == (0, f"{target}: valid\n", "")


def test_the_next_commands_run_as_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A folder name with a space: the printed commands are quoted for the shell.
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "init", "my agent")
    assert code == 0
    commands = [line.strip() for line in out.split("Next:")[1].splitlines() if line.strip()]
    assert commands == ["viksa validate 'my agent'", "viksa run 'my agent' greet -i name=Ada"]
    for command in commands:
        assert main(shlex.split(command)[1:]) == 0
    capsys.readouterr()


def test_init_runs_as_generated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init", tmp_path / "hello")
    code, out, _ = run(capsys, "run", tmp_path / "hello", "greet", "-i", "name=12345")
    # A string input keeps 12345 as text.
    assert (code, json.loads(out)) == (0, {"greeting": "Hello, 12345."})


def test_init_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "main.py").write_text("mine\n")
    code, out, err = run(capsys, "init", tmp_path)
    assert code == 1
    assert out == ""
    assert err == (
        f"viksa init: {tmp_path / 'main.py'} already exists: nothing was written; "
        "choose a new folder, or remove the file first\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["main.py"]
    assert (tmp_path / "main.py").read_text() == "mine\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--name", " "], "viksa init: --name must not be empty\n"),
        ([], "exists and is not a folder\n"),
    ],
)
def test_init_bad_input_is_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    code, out, err = run(capsys, "init", target, *extra)
    assert (code, out) == (2, "")
    assert err.endswith(message)


@pytest.mark.parametrize("path", ["", " "])
def test_an_empty_path_is_refused_not_taken_as_here(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    path: str,
) -> None:
    # `viksa init "$DIR"` with DIR unset must not scaffold into the current folder.
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "init", path)
    assert (code, out) == (2, "")
    assert (
        err == "viksa init: PATH is empty: name the agent's folder (`viksa init .` for this one)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_dot_dot_path_makes_only_its_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # mkdir(parents=True) of x/../y made an empty x beside y.
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "init", "x/../y")
    assert (code, err) == (0, "")
    assert [p.name for p in tmp_path.iterdir()] == ["y"]
    assert (tmp_path / "y" / "agent.json").is_file()
    # The printed commands name the folder that was made, and run.
    commands = [line.strip() for line in out.split("Next:")[1].splitlines() if line.strip()]
    assert commands == ["viksa validate y", "viksa run y greet -i name=Ada"]
    assert main(shlex.split(commands[0])[1:]) == 0
    capsys.readouterr()


def test_a_dot_dot_after_a_link_names_the_folder_the_system_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # link/.. is the link target's parent, not the folder holding the link.
    (tmp_path / "elsewhere" / "deep").mkdir(parents=True)
    here = tmp_path / "here"
    here.mkdir()
    (here / "link").symlink_to(tmp_path / "elsewhere" / "deep")
    monkeypatch.chdir(here)
    code, _, err = run(capsys, "init", "link/../agent")
    assert (code, err) == (0, "")
    assert (tmp_path / "elsewhere" / "agent" / "agent.json").is_file()
    assert sorted(p.name for p in here.iterdir()) == ["link"]


@pytest.mark.parametrize(
    ("folder", "alias"),
    [
        ("my_agent", "my_agent"),
        ("My Agent!", "my_agent"),
        ("2fast", "agent_2fast"),
        ("-", "my_agent"),
    ],
)
def test_alias_for_folder_names(folder: str, alias: str) -> None:
    assert alias_for(folder) == alias


def test_schema_is_generated_from_the_models(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    schema = json.loads(out)
    assert code == 0
    assert schema["$id"] == SCHEMA_URL
    assert schema["required"] == ["agent_name", "agent_description"]
    for key in ("$schema", "agent_alias", "auth_methods", "agent_endpoints", "inputs"):
        assert key in schema["properties"]
    assert "AgentEndpoint" in schema["$defs"]


def test_schema_to_a_file_and_an_unwritable_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "agent.schema.json"
    assert run(capsys, "schema", "--output", target) == (0, "", "")
    assert json.loads(target.read_text())["$id"] == SCHEMA_URL
    code, _, err = run(capsys, "schema", "-o", tmp_path / "missing" / "x.json")
    assert code == 2
    assert err.startswith("viksa schema: cannot write ")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_covers_every_subcommand(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "completion", shell)
    assert code == 0
    for command in ("init", "validate", "run", "dev", "deploy", "call", "login", "schema"):
        assert command in out
    assert "--secrets-file" in out


def test_completion_of_an_unknown_shell_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["completion", "tcsh"])
    assert caught.value.code == 2
    assert "invalid choice: 'tcsh'" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_a_reader_that_goes_away_is_no_traceback() -> None:
    # `viksa completion bash | head -1`: the reader closes the pipe before viksa writes.
    process = subprocess.Popen(
        [sys.executable, "-m", "viksa_ai.devtools.cli", "completion", "bash"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert err.decode() == ""
    assert process.returncode == 141  # 128 + SIGPIPE, as a shell reports a tool killed by it
