"""``viksa validate DIR`` on a folder of agents, ``$schema``, and ``--format sarif``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from viksa_ai.devtools.cli import main

BROKEN_MAIN = """\
from viksa_ai.runtime import mcp_endpoint


@mcp_endpoint(description="Greet someone by name")
def greet(payload):
    return {"greeting": payload["name"], "excited": payload.get("excited")}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def agents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """``tmp_path/agents`` holding ``good``, ``team/broken`` and agents in hidden places."""
    root = tmp_path / "agents"
    for name in ("good", "team/broken", ".venv/lib/hidden", "node_modules/pkg"):
        assert main(["init", str(root / name)]) == 0
    (root / "team" / "broken" / "main.py").write_text(BROKEN_MAIN)
    capsys.readouterr()
    return root


def test_a_folder_of_agents_validates_each_agent_below_it(
    agents: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "validate", agents)
    assert (code, err) == (1, "")
    broken = agents / "team" / "broken"
    assert out.splitlines()[-3:] == [
        f"{agents / 'good'}: valid",
        f"{broken}: invalid (1 error)",
        "1 of 2 agents valid",
    ]
    assert f"{broken / 'main.py'}:5:1: VX211 " in out


def test_a_folder_without_agents_says_what_was_expected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes").mkdir()
    code, out, err = run(capsys, "validate", tmp_path / "notes")
    assert (code, out) == (2, "")
    assert err == (
        f"viksa validate: {tmp_path / 'notes'}: no agent.json in this folder or any folder "
        "below it: pass an agent folder (agent.json with its main.py), a JSON manifest file, "
        "or a folder of agent folders; `viksa init PATH` creates an agent\n"
    )


def scaffold_with(tmp_path: Path, capsys: pytest.CaptureFixture[str], **fields: object) -> Path:
    """A new agent ``tmp_path/a`` whose agent.json has ``fields`` set; its manifest path."""
    run(capsys, "init", tmp_path / "a")
    manifest = tmp_path / "a" / "agent.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), **fields}))
    return manifest


def test_a_schema_key_is_accepted_and_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scaffold_with(tmp_path, capsys, **{"$schema": "./agent.schema.json"})
    code, out, _ = run(capsys, "validate", tmp_path / "a", "--strict", "--format", "json")
    assert code == 0
    assert json.loads(out)["agents"][0]["issues"] == []


def test_sarif_lists_each_issue_with_its_rule(
    agents: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "validate", agents, "--format", "sarif")
    assert code == 1
    document = json.loads(out)
    assert document["version"] == "2.1.0"
    (sarif_run,) = document["runs"]
    assert sarif_run["tool"]["driver"]["name"] == "viksa validate"
    assert [rule["id"] for rule in sarif_run["tool"]["driver"]["rules"]] == ["VX211"]
    (result,) = sarif_run["results"]
    assert result["ruleId"] == "VX211"
    assert result["message"]["text"].startswith("endpoint function 'greet' is not async")
    assert result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("team/broken/main.py")
    assert location["region"] == {"startLine": 5, "startColumn": 1}


def test_sarif_of_a_manifest_issue_names_the_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = scaffold_with(tmp_path, capsys, agent_endpoints=[])
    code, out, _ = run(capsys, "validate", manifest, "--format", "sarif")
    assert code == 1
    results = json.loads(out)["runs"][0]["results"]
    manifest_results = [r for r in results if r["ruleId"] == "VX104"]
    assert len(manifest_results) == 1
    for result in manifest_results:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith("a/agent.json")
        assert "region" not in location


@pytest.mark.skipif(sys.platform == "win32", reason="a newline in a folder name")
@pytest.mark.parametrize("output", ["text", "github"])
def test_a_folder_name_cannot_start_a_line_of_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str
) -> None:
    # A pull request's folder name is anyone's: in CI, a line it started could be a
    # workflow command (`::error ...`, `::stop-commands::`) or a forged summary.
    forged = "x\n::error file=README.md::forged\nall 3 agents valid"
    run(capsys, "init", tmp_path / "agents" / forged)
    code, out, _ = run(capsys, "validate", tmp_path / "agents", "--format", output)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 1
    shown = "x\\u000a::error file=README.md::forged\\u000aall 3 agents valid: valid"
    assert lines[0].endswith(shown)
