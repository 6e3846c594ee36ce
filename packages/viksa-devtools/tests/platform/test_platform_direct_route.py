"""The direct handler of ``POST /pulse/executor/execute`` answers as FastAPI's handler does.

The hot route serves a JSON object body without FastAPI's per-request dependency
solving (``direct_route``). A body sent as ``application/x-check+json`` is one FastAPI
parses as JSON but the direct handler leaves alone: sending each request both ways
compares the two handlers answer by answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform, PlatformConfig
from viksa_ai.devtools.platform.http._deps import project_of
from viksa_ai.devtools.platform.http._routes import pulse

Manifest = dict[str, Any]
_DIRECT = "application/json"
_FASTAPI = "application/x-check+json"  # JSON to FastAPI, not the direct handler's case
_VOLATILE = {"execution_id", "created_at", "finished_at", "duration_ms", "approval_id"}


@pytest.fixture
async def bare(viksa_platform: LocalPlatform) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to the platform app with no default headers (each case sends its own)."""
    transport = httpx.ASGITransport(app=viksa_platform.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", timeout=30
    ) as client:
        yield client


def _masked(answer: httpx.Response) -> tuple[int, Any, str | None]:
    body = answer.json()
    if isinstance(body, dict):
        body = {k: ("..." if k in _VOLATILE else v) for k, v in body.items()}
    return answer.status_code, body, answer.headers.get("www-authenticate")


def _auth(platform: LocalPlatform) -> dict[str, str]:
    return {"Authorization": f"Bearer {platform.credentials.api_key}"}


def _body(agent: Manifest, endpoint: str = "echo", **inputs: Any) -> dict[str, Any]:
    return {
        "agent_id": agent["id"],
        "agent_type": "cloud",
        "endpoint": f"{agent['agent_alias']}.main.{endpoint}",
        "inputs": inputs,
    }


Case = Callable[[LocalPlatform, Manifest], tuple[dict[str, str], str]]

CASES: dict[str, Case] = {
    "completed": lambda p, a: (_auth(p), json.dumps(_body(a, text="hi"))),
    "agent code fails": lambda p, a: (_auth(p), json.dumps(_body(a, "fail"))),
    "awaiting approval": lambda p, a: (_auth(p), json.dumps(_body(a, "guarded", text="x"))),
    "no credentials": lambda p, a: ({}, json.dumps(_body(a, text="hi"))),
    "basic credentials": lambda p, a: ({"Authorization": "Basic eDp5"}, json.dumps(_body(a))),
    "unknown key": lambda p, a: ({"Authorization": "Bearer vk_nope"}, json.dumps(_body(a))),
    "project of nobody": lambda p, a: (
        {**_auth(p), "X-Tenant-Project-Id": "prj_missing"},
        json.dumps(_body(a, text="hi")),
    ),
    "org of nobody": lambda p, a: (
        {**_auth(p), "X-Tenant-Org-Id": "org_missing"},
        json.dumps(_body(a, text="hi")),
    ),
    "unknown agent": lambda p, a: (_auth(p), json.dumps({**_body(a), "agent_id": "agt_none"})),
    "unknown endpoint": lambda p, a: (_auth(p), json.dumps(_body(a, "nope"))),
    "bad inputs": lambda p, a: (_auth(p), json.dumps(_body(a, text=5))),
    "missing fields": lambda p, a: (_auth(p), json.dumps({"agent_id": a["id"]})),
    "a list body": lambda p, a: (_auth(p), json.dumps([_body(a)])),
    "not JSON": lambda p, a: (_auth(p), '{"agent_id": '),
    "NaN": lambda p, a: (_auth(p), json.dumps(_body(a, text="x")).replace('"x"', "NaN")),
    "empty body": lambda p, a: (_auth(p), ""),
    "no credentials, a list body": lambda p, a: ({}, "[]"),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_the_direct_handler_answers_as_fastapis(
    case: str, bare: httpx.AsyncClient, viksa_platform: LocalPlatform, deployed: Manifest
) -> None:
    headers, content = CASES[case](viksa_platform, deployed)
    answers = [
        await bare.post(
            "/pulse/executor/execute",
            content=content,
            headers={**headers, "Content-Type": content_type},
        )
        for content_type in (_DIRECT, _FASTAPI)
    ]
    direct, fastapi = (_masked(answer) for answer in answers)
    assert direct == fastapi


async def test_a_json_object_takes_the_direct_path(
    http: httpx.AsyncClient, deployed: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    resolve = project_of

    def spy(request: Any) -> Awaitable[Any]:
        seen.append(request.headers["content-type"])
        return resolve(request)

    monkeypatch.setattr(pulse, "project_of", spy)
    body = _body(deployed, text="hi")
    assert (await http.post("/pulse/executor/execute", json=body)).status_code == 200
    other = json.dumps(body)
    answer = await http.post(
        "/pulse/executor/execute", content=other, headers={"Content-Type": _FASTAPI}
    )
    assert answer.status_code == 200
    assert seen == [_DIRECT]  # the second went through FastAPI's dependencies


async def _post_in_chunks(
    app: Any, path: str, headers: dict[str, str], chunks: list[bytes | None]
) -> tuple[int, Any]:
    """POST ``chunks`` (no Content-Length) as uvicorn hands them to an app: the last
    message carries data and ``more_body=False``, and a later ``receive`` waits for the
    client to go away (here: forever). None stands for the client going away."""
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "method": "POST", "path": path, "query_string": b""}
    scope["headers"] = raw_headers
    messages = [
        {"type": "http.disconnect"}
        if chunk is None
        else {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), timeout=30)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body)


@pytest.mark.parametrize("viksa_platform_config", [PlatformConfig(max_body_bytes=4096)])
@pytest.mark.parametrize("chunks", [[b"{" + b" " * 3000, b" " * 3000 + b"}"], [b" " * 5000] * 3])
async def test_a_streamed_body_over_the_cap_is_413_without_a_key(
    viksa_platform: LocalPlatform, chunks: list[bytes | None]
) -> None:
    # No Idempotency-Key: the direct handler is the first to read the body. The cut
    # comes with the last chunk or before it; either way 413, never a wait for more.
    status, body = await _post_in_chunks(
        viksa_platform.app,
        "/pulse/executor/execute",
        {**_auth(viksa_platform), "Content-Type": _DIRECT},
        chunks,
    )
    assert status == 413
    assert body["detail"]["code"] == "body_too_large"


async def test_a_client_gone_mid_body_is_answered_as_fastapi_answers_it(
    viksa_platform: LocalPlatform,
) -> None:
    answers = [
        await _post_in_chunks(
            viksa_platform.app,
            "/pulse/executor/execute",
            {**_auth(viksa_platform), "Content-Type": content_type},
            [b'{"agent_id": ', None],
        )
        for content_type in (_DIRECT, _FASTAPI)
    ]
    assert answers[0] == answers[1] == (400, {"detail": "There was an error parsing the body"})
