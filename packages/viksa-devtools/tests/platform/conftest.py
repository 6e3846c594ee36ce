"""Fixtures of the local platform tests: a raw HTTP client and a deployed test agent."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import DEFAULT_PASSWORD, LocalPlatform

Manifest = dict[str, Any]

AGENT_MAIN = """
import asyncio
import os
from typing import Any, Dict

from ViksaAI import ViksaAuth, context, mcp_endpoint


@mcp_endpoint(description="Echo the text, the call context and the auth param")
async def echo(payload: Dict[str, Any]):
    return {
        "text": payload.get("text"),
        "run_id": context().get("run_id"),
        "key": ViksaAuth.get_param("svc", "api_key"),
        "enabled": ViksaAuth.get_enabled_methods(),
    }


@mcp_endpoint(description="Sleep for a while")
async def slow(payload: Dict[str, Any]):
    await asyncio.sleep(payload.get("seconds"))
    return {"slept": payload.get("seconds")}


@mcp_endpoint(description="Kill the worker process")
async def crash(payload: Dict[str, Any]):
    os._exit(3)


@mcp_endpoint(description="Fail with an exception")
async def fail(payload: Dict[str, Any]):
    raise RuntimeError("boom")


@mcp_endpoint(description="A step that needs a human to approve it")
async def guarded(payload: Dict[str, Any]):
    return {"approved_text": payload.get("text")}
"""


def make_manifest(alias: str = "echo", **extra: Any) -> Manifest:
    """A valid AgentCreationRequest of the test agent."""
    endpoint = {"module": "main", "outputs": []}
    return {
        "agent_name": "Echo agent",
        "agent_alias": alias,
        "agent_description": "An agent for the platform tests",
        "agent_type": "cloud",
        "files": [{"name": "main.py", "content": AGENT_MAIN, "mime_type": "python"}],
        "requirements": [],
        "inputs": [
            {"name": "text", "type": "string"},
            {"name": "seconds", "type": "float", "min_value": 0, "max_value": 30},
        ],
        "outputs": [],
        "agent_endpoints": [
            {**endpoint, "name": "echo", "description": "echo", "inputs": [{"input_ref": "text"}]},
            {
                **endpoint,
                "name": "slow",
                "description": "slow",
                "inputs": [{"input_ref": "seconds"}],
                "execution_config": {"timeout_seconds": 1},
            },
            {**endpoint, "name": "crash", "description": "crash", "inputs": []},
            {**endpoint, "name": "fail", "description": "fail", "inputs": []},
            {
                **endpoint,
                "name": "guarded",
                "description": "guarded",
                "inputs": [{"input_ref": "text"}],
                "execution_config": {"requires_approval": True},
            },
        ],
        **extra,
    }


@pytest.fixture
def manifest() -> Callable[..., Manifest]:
    """Makes test agent manifests: ``manifest(alias, **extra_fields)``."""
    return make_manifest


@contextlib.asynccontextmanager
async def app_client(
    platform: LocalPlatform, token: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to ``platform``'s app with ``token``, by default its seeded API key."""
    transport = httpx.ASGITransport(app=platform.app)
    headers = {"Authorization": f"Bearer {token or platform.credentials.api_key}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", headers=headers, timeout=30
    ) as client:
        yield client


AppClient = Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def http_to() -> AppClient:
    """``async with http_to(platform, token=None) as http``: see app_client."""
    return app_client


@pytest.fixture
async def http(viksa_platform: LocalPlatform) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the platform app, with the seeded API key."""
    async with app_client(viksa_platform) as client:
        yield client


async def create_and_deploy(http: httpx.AsyncClient, body: Manifest) -> Manifest:
    """Create the agent ``body`` describes, build and deploy it; the created agent."""
    created = await http.post("/builder/agent/create", json=body)
    assert created.status_code == 201, created.text
    agent: Manifest = created.json()
    for route in ("/builder/builder/", "/builder/deploy/"):
        answer = await http.post(route, json={"agent_id": agent["id"]})
        assert answer.status_code == 200, answer.text
    return agent


Deploy = Callable[[Manifest], Awaitable[Manifest]]


@pytest.fixture
def deploy(http: httpx.AsyncClient) -> Deploy:
    """``await deploy(body)``: creates, builds and deploys an agent; the created agent."""
    return functools.partial(create_and_deploy, http)


@pytest.fixture
async def deployed(http: httpx.AsyncClient) -> Manifest:
    """The test agent with a vault secret bound to ``svc.api_key``, built and deployed."""
    secret = await http.post("/builder/secret/create", json={"name": "svc", "value": "s3cr3t"})
    assert secret.status_code == 201, secret.text
    body = make_manifest(auth_methods={"svc": {"api_key": {"secret_id": secret.json()["id"]}}})
    agent = await create_and_deploy(http, body)
    return {**agent, "secret_id": secret.json()["id"]}


AnotherAccount = Callable[[str, str], Awaitable[dict[str, str]]]


@pytest.fixture
def another_account(http: httpx.AsyncClient, viksa_platform: LocalPlatform) -> AnotherAccount:
    """``await another_account(email, password)``: headers of a new account's user
    (a session token) acting in an org and project of their own."""

    async def make(email: str, password: str) -> dict[str, str]:
        viksa_platform.platform.accounts.create_user(email, password)
        login = {"email": email, "password": password}
        token = (await http.post("/auth/individual/login", json=login)).json()["access_token"]
        theirs = {"Authorization": f"Bearer {token}"}
        org = (await http.post("/org/create", json={"name": "theirs"}, headers=theirs)).json()
        body = {"org_id": org["id"], "name": "p"}
        project = await http.post("/project/create", json=body, headers=theirs)
        assert project.status_code == 201, project.text
        return {**theirs, "X-Tenant-Org-Id": org["id"], "X-Tenant-Project-Id": project.json()["id"]}

    return make


def execute_body(agent: Manifest, endpoint: str, **inputs: Any) -> dict[str, Any]:
    """An EndpointExecutionRequest body for an endpoint of the test agent."""
    return {
        "agent_id": agent["id"],
        "agent_type": "cloud",
        "endpoint": f"{agent['agent_alias']}.main.{endpoint}",
        "inputs": inputs,
    }


@pytest.fixture
def execute() -> Callable[..., dict[str, Any]]:
    """Builds execute bodies: ``execute(agent, "echo", text="hi")``."""
    return execute_body


async def start_workflow(http: httpx.AsyncClient, agent_id: str, *endpoints: str) -> str:
    """Create and start a workflow of the test agent's ``endpoints`` (each given its name
    as ``text``); the URL of the execution, running in the background."""
    steps = [
        {"agent_id": agent_id, "endpoint": f"echo.main.{name}", "inputs": {"text": name}}
        for name in endpoints
    ]
    workflow = await http.post("/workflow/create", json={"steps": steps})
    assert workflow.status_code == 201, workflow.text
    started = await http.post("/workflow/start", json={"workflow_id": workflow.json()["id"]})
    assert started.status_code == 200, started.text
    return f"/workflow/execution/{started.json()['id']}"


StartWorkflow = Callable[..., Awaitable[str]]


@pytest.fixture
def workflow_started() -> StartWorkflow:
    """``await workflow_started(client, agent_id, "guarded", "echo")``: see start_workflow."""
    return start_workflow


async def make_echo_schedule(http: httpx.AsyncClient, agent: Manifest) -> Manifest:
    """A new schedule running the test agent's echo every minute."""
    body = {
        "agent_id": agent["id"],
        "endpoint": "echo.main.echo",
        "inputs": {"text": "t"},
        "interval_seconds": 60,
    }
    made = await http.post("/scheduler/schedule/create", json=body)
    assert made.status_code == 201, made.text
    schedule: Manifest = made.json()
    return schedule


@pytest.fixture
def echo_schedule() -> Callable[[httpx.AsyncClient, Manifest], Awaitable[Manifest]]:
    """``await echo_schedule(client, agent)``: see make_echo_schedule."""
    return make_echo_schedule


@pytest.fixture
def deploy_through() -> Callable[[httpx.AsyncClient, Manifest], Awaitable[Manifest]]:
    """``await deploy_through(client, body)``: create_and_deploy through any client."""
    return create_and_deploy


def _stop_server(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


@pytest.fixture
def stop_server() -> Callable[[subprocess.Popen[str]], None]:
    """Stops a ``viksa dev`` a test started: SIGTERM, then SIGKILL after 20 s."""
    return _stop_server


_BANNER_LINES = 40  # bounds the read of the start banner


@contextlib.contextmanager
def _serve_data(
    data: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    args: Sequence[str] = (),
    stderr: int = subprocess.DEVNULL,
) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """A real ``viksa dev --data data`` on a free 127.0.0.1 port (in ``cwd``, by default
    the file's folder), with more options ``args``: its process and the ``export`` lines
    of its banner."""
    command = [sys.executable, "-m", "viksa_ai.devtools.cli", "dev", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--data", str(data), *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        cwd=data.parent if cwd is None else cwd,
        env=env,
    )
    assert process.stdout is not None
    try:
        lines: dict[str, str] = {}
        for _ in range(_BANNER_LINES):
            line = process.stdout.readline()
            if line.startswith("export "):
                name, _, value = line[len("export ") :].strip().partition("=")
                lines[name] = value
            if "VIKSA_PROJECT_ID" in lines or not line:
                break
        assert "VIKSA_BASE_URL" in lines, "viksa dev did not print its banner"
        yield process, lines
    finally:
        _stop_server(process)


@contextlib.asynccontextmanager
async def _served_client(exports: Mapping[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a served platform (its banner's ``exports``), once it answers."""
    headers = {"Authorization": f"Bearer {exports['VIKSA_API_KEY']}"}
    base_url = exports["VIKSA_BASE_URL"]
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as http:
        for _ in range(200):  # the banner comes just before uvicorn serves
            try:
                await http.get("/docs")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        yield http


@pytest.fixture
def served_client() -> Callable[
    [Mapping[str, str]], contextlib.AbstractAsyncContextManager[httpx.AsyncClient]
]:
    """``async with served_client(exports) as http``: a client of a ``serve_data`` platform."""
    return _served_client


ServeData = Callable[
    ..., contextlib.AbstractContextManager[tuple[subprocess.Popen[str], dict[str, str]]]
]


@pytest.fixture
def serve_data() -> ServeData:
    """``with serve_data(path, env=, cwd=, args=, stderr=) as (process, exports)``: a real
    ``viksa dev --data path``, stopped (SIGTERM, then SIGKILL) when the block ends."""
    return _serve_data


@pytest.fixture
def dev_server(
    tmp_path: Path, stop_server: Callable[[subprocess.Popen[str]], None]
) -> Iterator[str]:
    """A real ``viksa dev --memory`` on a free 127.0.0.1 port; yields its base URL."""
    command = [sys.executable, "-m", "viksa_ai.devtools.cli", "dev", "--memory", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--allow-host", "devbox.test", "--password", DEFAULT_PASSWORD],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    try:
        base_url = ""
        for _ in range(_BANNER_LINES):
            line = process.stdout.readline()
            if line.startswith("export VIKSA_BASE_URL="):
                base_url = line.strip().split("=", 1)[1]
                break
        assert base_url, "viksa dev did not print its base URL"
        port = int(base_url.rsplit(":", 1)[1])
        for _ in range(200):  # the banner comes just before uvicorn serves
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield base_url
    finally:
        stop_server(process)
