"""Every Python example of the package README runs, against a mocked platform."""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from viksa_ai.client import ViksaClient

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)

SSE = b'data: {"step": 1}\n\nevent: progress\nid: 2\ndata: {"step": 2}\n\ndata: [DONE]\n\n'
TOKENS = {
    "access_token": "tok-2",
    "refresh_token": "ref-2",
    "expires_in": 60,
    "user_id": "u",
    "account_id": "a",
}
AGENTS = [{"id": f"a{n}", "agent_name": f"agent-{n}"} for n in range(3)]


def _platform(request: httpx.Request) -> httpx.Response:
    """A small stand-in for the platform, enough for the README's examples."""
    path = request.url.path
    if path.endswith("/stream"):
        return httpx.Response(200, content=SSE, headers={"content-type": "text/event-stream"})
    if path == "/auth/me":
        return httpx.Response(200, json={"id": "u", "email": "me@example.com", "account_id": "a"})
    if path in ("/auth/individual/login", "/auth/refresh"):
        return httpx.Response(200, json=TOKENS)
    if path == "/builder/agent/list":
        skip = int(request.url.params.get("skip", 0))
        limit = int(request.url.params.get("limit", 50))
        return httpx.Response(200, json={"agents": AGENTS[skip : skip + limit], "total": 3})
    if path == "/builder/agent/missing-id":
        return httpx.Response(
            404, json={"detail": "Agent not found"}, headers={"x-request-id": "r1"}
        )
    if path.startswith("/builder/agent/"):
        return httpx.Response(200, json={"agent_name": "flights"}, headers={"x-request-id": "r2"})
    if path == "/chat/conversations":
        return httpx.Response(200, json={"conversations": [{"id": "c1"}]})
    if path == "/pulse/executor/execute":
        body = {"status": "ok", "execution_id": "e", "endpoint": "my_agent.main.search"}
        return httpx.Response(200, json={**body, "response": {"flights": 2}})
    if path == "/pulse/executor/executions":
        failed = {"execution_id": "e1", "status": "failed", "endpoint": "a.main.f", "error": "boom"}
        return httpx.Response(200, json={"executions": [failed], "total": 1})
    if path == "/builder/workforce/list":
        return httpx.Response(200, json=[])
    return httpx.Response(200, json={"ok": True})


def _run(source: str, namespace: dict[str, Any]) -> None:
    code = compile(source, str(README), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if not code.co_flags & 0x80:  # CO_COROUTINE: no top-level await
        exec(code, namespace)
        return

    async def main() -> None:
        namespace["client"] = ViksaClient("tok-1", org_id="org", project_id="proj")
        try:
            await eval(code, namespace)
        finally:
            await namespace["client"].aclose()

    asyncio.run(main())


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 14


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{n}" for n in range(len(BLOCKS))])
def test_readme_example_runs(source: str, capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock(base_url="https://api.viksaai.com", assert_all_called=False) as platform:
        platform.route().mock(side_effect=_platform)
        _run(source, {"__name__": "readme", "token": "tok-1"})
    out = capsys.readouterr().out
    if "print(" in source:
        assert out.strip(), "the example printed nothing"
    for needle, expected in [
        ("me.email, agents.get", "me@example.com 3"),
        ("e.status_code, e.detail_message", "404 Agent not found r1"),
        ("stream_indent_finder(", "{'step': 1}\n{'step': 2}"),
        ("result.status, result.response", "ok 2"),
        ('agents.get("total", len(agents["agents"]))', "3 ['agent-0', 'agent-1', 'agent-2']"),
        ("recorded.last.status_code", "200 application/json r2"),
        ('run["execution_id"], run.get("error")', "e1 boom"),
    ]:
        if needle in source:
            assert expected in out
