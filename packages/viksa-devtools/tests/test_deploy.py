"""``viksa deploy`` against an in-process platform: create or update, secrets, no-op."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools import _cli_deploy
from viksa_ai.devtools._deploy import DeployError, deploy_agent
from viksa_ai.devtools.cli import main

SIGNING_MAIN = """\
from typing import Any, Dict

from viksa_ai.runtime import ViksaAuth, mcp_endpoint


@mcp_endpoint(description="Greet someone by name")
async def greet(payload: Dict[str, Any]) -> Dict[str, Any]:
    key = ViksaAuth.require_param("signing_key", "secret")
    ending = "!" if payload.get("excited", False) else "."
    return {"greeting": f"Hello, {payload['name']}{ending} ({len(key)})"}
"""


@pytest.fixture
def agent(tmp_path: Path) -> Path:
    folder = tmp_path / "hello"
    assert main(["init", str(folder)]) == 0
    return folder


def with_auth(folder: Path) -> None:
    manifest = json.loads((folder / "agent.json").read_text())
    manifest["auth_methods"] = {"signing_key": ["secret"]}
    (folder / "agent.json").write_text(json.dumps(manifest))
    (folder / "main.py").write_text(SIGNING_MAIN)


class Borrowed:
    """The fixture's client for a command, which must not close it."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def __enter__(self) -> Borrowed:
        return self

    def __exit__(self, *_: object) -> None:
        return None


def agents_named(client: Any, alias: str) -> list[dict[str, Any]]:
    return [a for a in client.builder.agents.iter_all() if a["agent_alias"] == alias]


def execute(client: Any, agent_id: str, **inputs: Any) -> Any:
    request = {"agent_id": agent_id, "agent_type": "cloud", "endpoint": "hello.main.greet"}
    return client.pulse.execute({**request, "inputs": inputs})


def test_deploy_creates_then_updates_the_same_agent(agent: Path, viksa_sync_client: Any) -> None:
    first = deploy_agent(viksa_sync_client, agent)
    assert (first.alias, first.action, first.revision) == ("hello", "created", 1)
    assert first.endpoints == ("hello.main.greet",)
    assert first.required_inputs == (("name",),)
    again = deploy_agent(viksa_sync_client, agent)
    assert (again.action, again.revision, again.agent_id) == ("unchanged", 1, first.agent_id)
    main_py = agent / "main.py"
    main_py.write_text(main_py.read_text().replace("Hello, ", "Hi, "))
    updated = deploy_agent(viksa_sync_client, agent)
    assert (updated.action, updated.revision, updated.changed) == ("updated", 2, ("files",))
    assert updated.agent_id == first.agent_id
    assert len(agents_named(viksa_sync_client, "hello")) == 1
    answer = execute(viksa_sync_client, first.agent_id, name="Ada")
    assert answer.response == {"greeting": "Hi, Ada."}


def test_an_invalid_agent_is_refused_with_the_validators_report(
    agent: Path, viksa_sync_client: Any
) -> None:
    (agent / "main.py").write_text("def greet(payload):\n    return {}\n")
    with pytest.raises(DeployError) as caught:
        deploy_agent(viksa_sync_client, agent)
    assert str(caught.value) == f"{agent} is not a valid agent: nothing was deployed"
    assert any(" VX2" in line for line in caught.value.lines)
    assert caught.value.lines[-1].startswith(f"{agent}: invalid")
    assert agents_named(viksa_sync_client, "hello") == []


def test_secrets_go_to_the_vault_and_stay_bound(agent: Path, viksa_sync_client: Any) -> None:
    with_auth(agent)
    first = deploy_agent(viksa_sync_client, agent, {"signing_key.secret": "s3cr3t-value"})
    assert (first.action, first.secrets) == ("created", ("signing_key.secret",))
    (secret,) = list(viksa_sync_client.builder.secrets.iter_all())
    assert secret["name"] == "hello.signing_key.secret"
    stored = viksa_sync_client.builder.agents.get(first.agent_id)
    assert stored["auth_methods"] == {"signing_key": {"secret": {"secret_id": secret["id"]}}}
    answer = execute(viksa_sync_client, first.agent_id, name="Ada")
    assert answer.response == {"greeting": "Hello, Ada. (12)"}
    # Without --secret the binding made before is kept; the same value changes nothing.
    assert deploy_agent(viksa_sync_client, agent).action == "unchanged"
    same = deploy_agent(viksa_sync_client, agent, {"signing_key.secret": "s3cr3t-value"})
    assert same.action == "unchanged"
    changed = deploy_agent(viksa_sync_client, agent, {"signing_key.secret": "longer-secret-2"})
    assert changed.action == "secrets updated"
    assert execute(viksa_sync_client, first.agent_id, name="Ada").response == {
        "greeting": "Hello, Ada. (15)"
    }
    assert len(list(viksa_sync_client.builder.secrets.iter_all())) == 1


def test_the_deploy_command_prints_the_call_line_and_never_a_secret(
    agent: Path,
    viksa_sync_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with_auth(agent)
    monkeypatch.setattr(_cli_deploy, "_connect", lambda args: Borrowed(viksa_sync_client))
    capsys.readouterr()
    code = main(["deploy", str(agent), "--secret", "signing_key.secret=s3cr3t-value"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "hello: created (revision 1)",
        "  secrets   signing_key.secret (stored in the vault, bound)",
        "  endpoint  hello.main.greet",
        "    viksa call hello greet -i name=VALUE",
    ]
    assert main(["deploy", str(agent), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is True
    assert document["agents"][0]["action"] == "unchanged"


def test_the_deploy_command_refuses_an_invalid_agent(
    agent: Path,
    viksa_sync_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (agent / "main.py").write_text("def greet(payload):\n    return {}\n")
    monkeypatch.setattr(_cli_deploy, "_connect", lambda args: Borrowed(viksa_sync_client))
    capsys.readouterr()
    assert main(["deploy", str(agent)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[-1] == (
        f"viksa deploy: {agent} is not a valid agent: nothing was deployed"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--secret", "nodot=x"], "viksa deploy: --secret: "),
        (["--secrets-file", "/nonexistent/s"], "viksa deploy: --secrets-file: cannot read "),
    ],
)
def test_bad_secrets_are_usage_errors(
    agent: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["deploy", str(agent), *argv]) == 2
    assert capsys.readouterr().err.startswith(message)


def test_a_path_that_is_not_an_agent_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"viksa deploy: {tmp_path}: no agent.json there: pass an agent folder "
        "(`viksa init PATH` creates one) or a folder of agent folders\n"
    )


@pytest.mark.parametrize(
    "argv",
    [["--secret", "nodot=x"], ["--secrets-file", "/nonexistent/s"], ["--base-url", "ftp://x"]],
)
def test_a_usage_error_with_format_json_is_still_one_document_on_stdout(
    agent: Path,
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("VIKSA_API_KEY", "vk_never_printed")
    capsys.readouterr()
    assert main(["deploy", str(agent), *argv, "--format", "json"]) == 2
    out, err = capsys.readouterr()
    document = json.loads(out)  # `viksa deploy --format json | jq .ok` reads false
    assert document["ok"] is False
    assert document["agents"] == []
    assert err == f"viksa deploy: {document['error']}\n"
    assert "vk_never_printed" not in out + err


def test_the_viksa_deploy_fixture_returns_the_agent(agent: Path, viksa_deploy: Any) -> None:
    deployed = viksa_deploy(agent)
    assert deployed["agent_alias"] == "hello"
    assert deployed["deploy_status"] == "deployed"


def test_the_deploy_command_shows_the_validators_warnings(
    agent: Path,
    viksa_sync_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A newcomer imports httpx without listing it in requirements: `viksa deploy` must
    # say what `viksa validate` says (VX221: the import fails on a platform worker), not
    # deploy silently an agent that works only locally.
    main_py = agent / "main.py"
    source = main_py.read_text().replace("from typing", "import httpx  # noqa: F401\nfrom typing")
    main_py.write_text(source)
    monkeypatch.setattr(_cli_deploy, "_connect", lambda args: Borrowed(viksa_sync_client))
    capsys.readouterr()
    assert main(["deploy", str(agent)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "hello: created (revision 1)"
    [warning] = err.splitlines()
    assert warning.startswith(f"{agent / 'main.py'}:")
    assert " VX221 (warning) main.py imports 'httpx'" in warning
    main_py.write_text(source.replace("Hello, ", "Hi, "))
    assert main(["deploy", str(agent), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["agents"][0]["action"] == "updated"
    assert document["agents"][0]["warnings"] == [warning]
    result = deploy_agent(viksa_sync_client, agent)
    assert (result.action, result.warnings) == ("unchanged", (warning,))


def test_call_words_an_invalid_input_as_run_does(
    agent: Path,
    viksa_sync_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `viksa call -i name=` said "pulse POST /pulse/executor/execute -> 422: inputs.name:
    # ...": the HTTP plumbing, where `viksa run` says which input is wrong and why.
    from viksa_ai.devtools import _cli_common

    deploy_agent(viksa_sync_client, agent)
    monkeypatch.setattr(_cli_common, "connect", lambda args: Borrowed(viksa_sync_client))
    capsys.readouterr()
    assert main(["run", str(agent), "greet", "-i", "name=", "--format", "json"]) == 3
    ran = json.loads(capsys.readouterr().err)["error"]
    assert main(["call", "hello", "greet", "-i", "name=", "--format", "json"]) == 3
    called = json.loads(capsys.readouterr().err)["error"]
    assert (called["kind"], called["message"]) == ("invalid_input", ran["message"])
