"""``viksa validate`` on paths a CI script may pass by mistake (red-team pass)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from viksa_ai.devtools import cli


@pytest.fixture
def in_an_agent_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    """The working directory is a valid agent (made by `viksa init`)."""
    folder = tmp_path / "echo"
    assert cli.main(["init", str(folder)]) == 0
    capsys.readouterr()
    monkeypatch.chdir(folder)
    return folder


def test_an_empty_path_is_a_usage_error_not_the_working_directory(
    in_an_agent_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `viksa validate "$AGENT_DIR"` with the variable unset: the agent in the working
    # directory must not stand in for the one meant.
    assert cli.main(["validate", "."]) == 0
    capsys.readouterr()
    assert cli.main(["validate", ""]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "viksa validate: an empty path: pass an agent directory or its JSON manifest\n"
    )


def test_dash_says_standard_input_is_not_read(
    in_an_agent_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["validate", "-"]) == 2
    assert "standard input is not read" in capsys.readouterr().err
    # ...but a file named "-" is a file like any other
    (in_an_agent_folder / "-").symlink_to(in_an_agent_folder / "agent.json")
    assert cli.main(["validate", "--", "-"]) == 0


def test_a_linked_agent_folder_in_a_folder_of_agents_is_validated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = tmp_path / "shared" / "echo"
    assert cli.main(["init", str(shared)]) == 0
    (shared / "main.py").write_text("def echo(:\n", encoding="utf-8")  # invalid
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "echo").symlink_to(shared, target_is_directory=True)
    (agents / "loop").symlink_to(agents, target_is_directory=True)  # no agent: not entered
    capsys.readouterr()
    assert cli.main(["validate", str(agents)]) == 1
    assert f"{agents / 'echo'}: invalid" in capsys.readouterr().out


def test_json_says_why_strict_fails_on_hidden_warnings(
    in_an_agent_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = json.loads((in_an_agent_folder / "agent.json").read_text(encoding="utf-8"))
    manifest["inputs"].append({"name": "unused", "type": "string"})  # VX303, a warning
    (in_an_agent_folder / "agent.json").write_text(json.dumps(manifest), encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["validate", ".", "--format", "json", "--strict", "--no-warnings"]) == 1
    [agent] = json.loads(capsys.readouterr().out)["agents"]
    assert (agent["valid"], agent["errors"], agent["warnings"]) == (False, 0, 0)
    assert (agent["hidden_warnings"], agent["issues"]) == (1, [])


def _with_default(folder: Path, default_json: str) -> None:
    """agent.json of ``folder`` with an extra dict input whose default is ``default_json``."""
    manifest = json.loads((folder / "agent.json").read_text(encoding="utf-8"))
    manifest["inputs"].append({"name": "options", "type": "dict", "default": "@"})
    text = json.dumps(manifest).replace('"@"', default_json)
    (folder / "agent.json").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("default", "says"),
    [
        ('{"ratio": NaN}', "NaN is not a JSON number"),
        ('{"ratio": -Infinity}', "-Infinity is not a JSON number"),
        ('{"ratio": 1e999}', "'1e999' is too large"),
        ('{"\\udc80": 1}', "lone UTF-16 surrogate"),
        ('{"note": "\\ud83d"}', "lone UTF-16 surrogate"),
    ],
)
def test_json_the_platform_refuses_is_not_read(
    in_an_agent_folder: Path, capsys: pytest.CaptureFixture[str], default: str, says: str
) -> None:
    # Python's json reads these; the platform answers 422 to a deploy holding them.
    _with_default(in_an_agent_folder, default)
    capsys.readouterr()
    assert cli.main(["validate", "."]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert says in captured.err


@pytest.mark.parametrize(
    "default", ['{"emoji": "\\ud83d\\ude00"}', '{"text": "\\\\ud800"}', '{"big": 1e308}']
)
def test_strict_json_with_escapes_is_read(
    in_an_agent_folder: Path, capsys: pytest.CaptureFixture[str], default: str
) -> None:
    _with_default(in_an_agent_folder, default)
    assert cli.main(["validate", "."]) == 0


def test_a_large_agent_nested_too_deeply_to_send_to_a_worker_is_reported(
    in_an_agent_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Past IN_PROCESS_MAX_CHARS of code the agent goes to a worker process, pickled:
    # pickle recursed out of the stack and `viksa validate` ended in a traceback.
    main = in_an_agent_folder / "main.py"
    main.write_text(main.read_text(encoding="utf-8") + "# padding\n" * 3000, encoding="utf-8")
    text = (in_an_agent_folder / "agent.json").read_text(encoding="utf-8").rstrip()
    deep = "[" * 900 + "]" * 900
    (in_an_agent_folder / "agent.json").write_text(f'{text[:-1]}, "x": {deep}}}', "utf-8")
    capsys.readouterr()
    assert cli.main(["validate", "."]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("agent.json: VX004 the manifest is nested too deeply")
    assert captured.err == ""


@pytest.mark.parametrize("command", ["validate", "run"])
def test_main_py_given_for_the_agent_says_to_pass_its_folder(
    in_an_agent_folder: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    # A newcomer's slip: `viksa validate my_agent/main.py` read main.py as JSON.
    arguments = [command, "main.py"] + (["echo"] if command == "run" else [])
    assert cli.main(arguments) != 0
    err = capsys.readouterr().err
    assert "this is Python code, not the agent's manifest" in err
    assert "pass the agent's directory" in err
    assert "not valid JSON" not in err
