"""The red-team agent deployed on the platform gets nothing of the platform's state.

Once in process (the app, with a ``--data`` file) and once through a real ``viksa dev``
on 127.0.0.1 whose command line names its data file and whose environment holds a
secret: the agent reads ``/proc`` for both, tries the data file, other directories and
writes outside its own, and every attempt must come back empty.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import PlatformConfig
from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform.http._serve import banner
from viksa_ai.devtools.runner import sandbox_available, sandbox_status

FIXTURES = Path(__file__).parent.parent / "fixtures"
SENTINEL_VAR = "VIKSA_TEST_SERVER_SECRET"
SENTINEL = "s3cr3t-the-agent-must-not-see"

needs_sandbox = pytest.mark.skipif(
    not sandbox_available(), reason="no sandbox here: " + sandbox_status()[1]
)


def red_team_manifest() -> dict[str, Any]:
    inputs = [
        ("sentinel", "string"),
        ("data_file", "string"),
        ("home", "string"),
        ("other_dirs", "list"),
        ("write_targets", "list"),
        ("pids", "list"),
    ]
    return {
        "agent_name": "Red team",
        "agent_alias": "redteam",
        "agent_description": "Tries to read the platform's state",
        "agent_type": "cloud",
        "files": [
            {
                "name": "main.py",
                "content": (FIXTURES / "red_team_main.py").read_text(),
                "mime_type": "python",
            }
        ],
        "requirements": [],
        "inputs": [{"name": name, "type": kind} for name, kind in inputs],
        "outputs": [],
        "agent_endpoints": [
            {
                "name": "attack",
                "module": "main",
                "description": "attack",
                "inputs": [{"input_ref": name, "required": False} for name, _ in inputs],
                "outputs": [],
            }
        ],
    }


def attack_inputs(tmp_path: Path, data_file: Path, server_pid: int) -> dict[str, Any]:
    other = tmp_path / "viksa-agent-other" / "work"
    other.mkdir(parents=True)
    (other / "main.py").write_text("# another agent's code")
    return {
        "sentinel": SENTINEL,
        "data_file": str(data_file),
        "home": str(Path.home()),
        "other_dirs": [str(other), str(data_file.parent)],
        "write_targets": [str(tmp_path / "owned.txt"), str(data_file.parent / "owned.txt")],
        "pids": [server_pid, os.getpid()],
    }


async def deploy_and_attack(http: httpx.AsyncClient, inputs: dict[str, Any]) -> dict[str, Any]:
    created = await http.post("/builder/agent/create", json=red_team_manifest())
    assert created.status_code == 201, created.text
    agent_id = created.json()["id"]
    for route in ("/builder/builder/", "/builder/deploy/"):
        answer = await http.post(route, json={"agent_id": agent_id})
        assert answer.status_code == 200, answer.text
    body = {
        "agent_id": agent_id,
        "agent_type": "cloud",
        "endpoint": "redteam.main.attack",
        "inputs": inputs,
    }
    answer = await http.post("/pulse/executor/execute", json=body)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["status"] == "completed", result
    found: dict[str, Any] = result["response"]
    return found


def assert_got_nothing(found: dict[str, Any], tmp_path: Path, data_file: Path) -> None:
    assert found["sentinel_in_env"] is False
    assert found["sentinel_in_proc_environ"] == []
    assert found["data_file_reads"] == []
    assert found["other_dirs"] == []
    assert found["writes_outside"] == []
    assert found["foreign_pids"] == []
    assert not (tmp_path / "owned.txt").exists()
    assert not (data_file.parent / "owned.txt").exists()


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "state" / "platform.db"
    path.parent.mkdir()
    return path


@pytest.fixture
def viksa_platform_config(data_file: Path, monkeypatch: pytest.MonkeyPatch) -> PlatformConfig:
    # The server's environment holds a secret before the platform (and its workers) start.
    monkeypatch.setenv(SENTINEL_VAR, SENTINEL)
    return PlatformConfig(data_path=data_file)


@needs_sandbox
async def test_the_red_team_agent_gets_nothing_through_the_in_process_platform(
    http: httpx.AsyncClient, tmp_path: Path, data_file: Path
) -> None:
    found = await deploy_and_attack(http, attack_inputs(tmp_path, data_file, os.getpid()))
    assert_got_nothing(found, tmp_path, data_file)


@needs_sandbox
def test_the_red_team_agent_gets_nothing_through_a_real_viksa_dev(
    tmp_path: Path,
    data_file: Path,
    serve_data: Callable[..., Any],
    served_client: Callable[..., Any],
) -> None:
    env = {**os.environ, SENTINEL_VAR: SENTINEL}
    with serve_data(data_file, env=env, cwd=tmp_path) as (process, lines):
        assert data_file.exists()  # the path on the server's command line holds the state
        inputs = attack_inputs(tmp_path, data_file, process.pid)

        async def attack() -> dict[str, Any]:
            async with served_client(lines) as http:
                return await deploy_and_attack(http, inputs)

        found = asyncio.run(attack())
    assert_got_nothing(found, tmp_path, data_file)


@needs_sandbox
def test_the_banner_says_whether_agents_are_sandboxed() -> None:
    platform = Platform(PlatformConfig())
    try:
        credentials = platform.seed()
        on = banner("http://127.0.0.1:1", credentials, None, [], sandbox_status(True)[1])
        off = banner("http://127.0.0.1:1", credentials, None, [], sandbox_status(False)[1])
    finally:
        platform.close()
    assert "  sandbox   on (" in on
    assert "  sandbox   off (--no-sandbox): agents run unsandboxed" in off


def test_no_sandbox_reaches_the_platform_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from viksa_ai.devtools import _cli_dev
    from viksa_ai.devtools.cli import build_parser
    from viksa_ai.devtools.platform.http import _serve

    seen: list[PlatformConfig] = []

    def fake_serve(config: PlatformConfig, **_: Any) -> int:
        seen.append(config)
        return 0

    monkeypatch.setattr(_serve, "serve", fake_serve)
    for argv, sandbox in (
        (["dev", "--memory"], True),
        (["dev", "--memory", "--no-sandbox"], False),
    ):
        args = build_parser().parse_args(argv)
        assert args.sandbox is sandbox
        assert _cli_dev._run(args) == 0
    assert [config.sandbox for config in seen] == [True, False]
