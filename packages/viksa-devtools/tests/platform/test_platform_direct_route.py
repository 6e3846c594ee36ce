"""The direct handler of ``POST /pulse/executor/execute`` answers as FastAPI's handler does.

The hot route serves a JSON object body without FastAPI's per-request dependency
solving (``direct_route``). A body sent as ``application/x-check+json`` is one FastAPI
parses as JSON but the direct handler leaves alone: sending each request both ways
compares the two handlers answer by answer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import HTTPException

from viksa_ai.devtools.platform import LocalPlatform, PlatformConfig
from viksa_ai.devtools.platform.http import _deps
from viksa_ai.devtools.platform.http._deps import project_of
from viksa_ai.devtools.platform.http._routes import pulse
from viksa_ai.devtools.platform.services._security import decode_jwt, encode_jwt

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
    app: Any,
    path: str,
    headers: dict[str, str],
    chunks: list[bytes | None],
    *,
    complete: bool = True,
) -> tuple[int, Any]:
    """POST ``chunks`` (no Content-Length) as uvicorn hands them to an app: the last
    message carries data and ``more_body=False``, and a later ``receive`` waits for the
    client to go away (here: forever). None stands for the client going away; with
    ``complete=False`` the client stalls after the last chunk (``more_body=True``)."""
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "method": "POST", "path": path, "query_string": b""}
    scope["headers"] = raw_headers
    messages = [
        {"type": "http.disconnect"}
        if chunk is None
        else {
            "type": "http.request",
            "body": chunk,
            "more_body": i < len(chunks) - 1 or not complete,
        }
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


# -- hostile requests: the direct path against FastAPI's alone (review 3) ---------------


async def _decline(request: Any) -> None:
    """``json_object`` of a platform whose direct handler leaves every request to FastAPI."""
    del request


async def _login(bare: httpx.AsyncClient, platform: LocalPlatform) -> str:
    creds = platform.credentials
    login = {"email": creds.email, "password": creds.password}
    answer = await bare.post("/auth/individual/login", json=login)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


Hostile = tuple[dict[str, Any] | httpx.Headers, bytes]


async def _hostile_cases(
    bare: httpx.AsyncClient,
    platform: LocalPlatform,
    agent: Manifest,
    account: Callable[[str, str], Awaitable[dict[str, str]]],
) -> dict[str, Hostile]:
    key = _auth(platform)
    plain = json.dumps(_body(agent, text="hi"))
    utf8 = plain.encode()
    as_json = {**key, "Content-Type": "application/json"}
    jwt = await _login(bare, platform)
    accounts = platform.platform.accounts
    claims = decode_jwt(jwt, accounts._key)
    expired = encode_jwt({**claims, "exp": time.time() - 60}, accounts._key)
    forged = encode_jwt(claims, b"not the platform's key")
    worker = await bare.post("/auth/key/worker", json={"name": "w"}, headers=key)
    revoked = await bare.post("/auth/key/api", json={"name": "r"}, headers=key)
    assert worker.status_code == revoked.status_code == 201, (worker.text, revoked.text)
    gone = await bare.delete(f"/auth/key/api/{revoked.json()['id']}", headers=key)
    assert gone.status_code == 200, gone.text
    theirs = await account("mallory@example.com", "pw-mallory-1")
    other = {
        "org": theirs["X-Tenant-Org-Id"],
        "project": theirs["X-Tenant-Project-Id"],
        "token": theirs["Authorization"].removeprefix("Bearer "),
    }
    two = {"org_id": platform.credentials.org_id, "name": "two"}
    user = {"Authorization": f"Bearer {jwt}"}
    mine = (await bare.post("/project/create", json=two, headers=user)).json()
    deep = {
        **_body(agent),
        "inputs": {"text": "x", "deep": json.loads("[" * 70 + "1" + "]" * 70)},
    }
    return {
        "a user token": ({"Authorization": f"Bearer {jwt}", "Content-Type": _DIRECT}, utf8),
        "an expired token": ({"Authorization": f"Bearer {expired}", "Content-Type": _DIRECT}, utf8),
        "a token of another key": (
            {"Authorization": f"Bearer {forged}", "Content-Type": _DIRECT},
            utf8,
        ),
        "a worker key": (
            {"Authorization": f"Bearer {worker.json()['key']}", "Content-Type": _DIRECT},
            utf8,
        ),
        "a revoked key": (
            {"Authorization": f"Bearer {revoked.json()['key']}", "Content-Type": _DIRECT},
            utf8,
        ),
        "an empty bearer": ({"Authorization": "Bearer ", "Content-Type": _DIRECT}, utf8),
        "a bare scheme": ({"Authorization": "Bearer", "Content-Type": _DIRECT}, utf8),
        "a lower-case scheme": (
            {
                **key,
                "Authorization": key["Authorization"].replace("Bearer", "bearer"),
                "Content-Type": _DIRECT,
            },
            utf8,
        ),
        "a garbage token": ({"Authorization": "Bearer a.b.c", "Content-Type": _DIRECT}, utf8),
        "a non-ASCII token": (
            {"Authorization": "Bearer vk_\xe9".encode("latin-1"), "Content-Type": _DIRECT},
            utf8,
        ),
        "another account's project": ({**as_json, "X-Tenant-Project-Id": other["project"]}, utf8),
        "another account's org": ({**as_json, "X-Tenant-Org-Id": other["org"]}, utf8),
        "their token, our project": (
            {
                "Authorization": f"Bearer {other['token']}",
                "Content-Type": _DIRECT,
                "X-Tenant-Project-Id": platform.credentials.project_id,
            },
            utf8,
        ),
        "our user, our other project": (
            {
                "Authorization": f"Bearer {jwt}",
                "Content-Type": _DIRECT,
                "X-Tenant-Project-Id": mine["id"],
            },
            utf8,
        ),
        "our user, our project in their org": (
            {
                "Authorization": f"Bearer {jwt}",
                "Content-Type": _DIRECT,
                "X-Tenant-Org-Id": other["org"],
                "X-Tenant-Project-Id": platform.credentials.project_id,
            },
            utf8,
        ),
        "empty tenant headers": (
            {**as_json, "X-Tenant-Org-Id": "", "X-Tenant-Project-Id": ""},
            utf8,
        ),
        "charset latin-1, UTF-8 body": (
            {**key, "Content-Type": "application/json; charset=latin-1"},
            utf8,
        ),
        "charset latin-1, latin-1 body": (
            {**key, "Content-Type": "application/json; charset=latin-1"},
            plain.replace('"hi"', '"h\u00e9"').encode("latin-1"),
        ),
        "upper-case type": ({**key, "Content-Type": "Application/JSON"}, utf8),
        "a +json type": ({**key, "Content-Type": "application/vnd.viksa+json"}, utf8),
        "text/plain": ({**key, "Content-Type": "text/plain"}, utf8),
        "no content type": (key, utf8),
        "two types": ({**key, "Content-Type": "application/json, text/plain"}, utf8),
        "a UTF-8 BOM": (as_json, b"\xef\xbb\xbf" + utf8),
        "two project headers, ours first": (
            httpx.Headers(
                [
                    *as_json.items(),
                    ("X-Tenant-Project-Id", platform.credentials.project_id),
                    ("X-Tenant-Project-Id", other["project"]),
                ]
            ),
            utf8,
        ),
        "two credentials, a bad one first": (
            httpx.Headers([("Authorization", "Bearer vk_bad"), *as_json.items()]),
            utf8,
        ),
        "a number body": (as_json, b"5"),
        "a string body": (as_json, b'"execute"'),
        "a null body": (as_json, b"null"),
        "an empty object": (as_json, b"{}"),
        "duplicate keys": (as_json, plain.replace("{", '{"agent_id": "agt_other", ', 1).encode()),
        "nested too deep": (as_json, json.dumps(deep).encode()),
        "a lone surrogate": (as_json, plain.replace('"hi"', '"\\ud800"').encode()),
        "a number too large for a float": (as_json, plain.replace('"hi"', "1e400").encode()),
        "an integer of 5000 digits": (as_json, plain.replace('"hi"', "9" * 5000).encode()),
        "a huge timeout": (
            as_json,
            json.dumps({**_body(agent, text="x"), "timeout": 10**400}).encode(),
        ),
        "a boolean timeout": (
            as_json,
            json.dumps({**_body(agent, text="x"), "timeout": True}).encode(),
        ),
        "inputs not an object": (as_json, json.dumps({**_body(agent), "inputs": [1]}).encode()),
        "a non-string endpoint": (as_json, json.dumps({**_body(agent), "endpoint": 5}).encode()),
    }


async def test_hostile_requests_are_answered_as_fastapi_alone_answers_them(
    bare: httpx.AsyncClient,
    viksa_platform: LocalPlatform,
    deployed: Manifest,
    another_account: Callable[[str, str], Awaitable[dict[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cases = await _hostile_cases(bare, viksa_platform, deployed, another_account)

    async def answers() -> dict[str, tuple[int, Any, str | None]]:
        return {
            name: _masked(
                await bare.post("/pulse/executor/execute", content=content, headers=headers)
            )
            for name, (headers, content) in cases.items()
        }

    direct = await answers()
    monkeypatch.setattr(pulse, "json_object", _decline)
    fastapi = await answers()
    assert {n: a for n, a in direct.items() if a != fastapi[n]} == {}
    # Nothing was a crash, and the common case with every credential kind still runs.
    assert all(status < 500 for status, _, _ in direct.values()), direct
    assert direct["a user token"][0] == direct["charset latin-1, UTF-8 body"][0] == 200


async def test_dependency_overrides_reach_the_direct_route(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform, deployed: Manifest
) -> None:
    # A test that overrides a dependency (here: who the caller is) must see it on the
    # hot route too, whatever the body's content type.
    async def nobody() -> None:
        raise HTTPException(418, "overridden")

    app = viksa_platform.app
    body = _body(deployed, text="hi")
    assert (await http.post("/pulse/executor/execute", json=body)).status_code == 200
    app.dependency_overrides[_deps._principal] = nobody
    try:
        answer = await http.post("/pulse/executor/execute", json=body)
    finally:
        app.dependency_overrides.clear()
    assert (answer.status_code, answer.json()) == (418, {"detail": "overridden"})
    assert (await http.post("/pulse/executor/execute", json=body)).status_code == 200


async def _keyed_round(
    http: httpx.AsyncClient, agent: Manifest, key: str
) -> tuple[list[int], int, list[int]]:
    """Four concurrent posts with one Idempotency-Key, the key again, the key with
    another body: (concurrent statuses sorted, executions made, [replay, other body])."""
    before = (await http.get("/pulse/executor/executions")).json()["total"]
    slow = {**_body(agent, "slow"), "inputs": {"seconds": 0.5}}
    keyed = {"Idempotency-Key": key}
    together = await asyncio.gather(
        *(http.post("/pulse/executor/execute", json=slow, headers=keyed) for _ in range(4))
    )
    made = (await http.get("/pulse/executor/executions")).json()["total"] - before
    replay = await http.post("/pulse/executor/execute", json=slow, headers=keyed)
    first = next(a for a in together if a.status_code == 200)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["execution_id"] == first.json()["execution_id"]
    other = await http.post("/pulse/executor/execute", json=_body(agent, text="x"), headers=keyed)
    return sorted(a.status_code for a in together), made, [replay.status_code, other.status_code]


async def test_idempotency_keys_hold_on_the_direct_path_as_on_fastapis(
    http: httpx.AsyncClient, deployed: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = await _keyed_round(http, deployed, "k-direct")
    monkeypatch.setattr(pulse, "json_object", _decline)
    fastapi = await _keyed_round(http, deployed, "k-fastapi")
    assert direct == fastapi == ([200, 409, 409, 409], 1, [200, 422])


async def test_faults_and_request_ids_reach_the_direct_path(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    armed = await http.post(
        "/_dev/faults", json={"spec": "status=503;path=/pulse/executor/execute;count=1"}
    )
    assert armed.status_code == 201, armed.text
    body = _body(deployed, text="hi")
    traced = {"X-Request-Id": "req-review-3"}
    failed = await http.post("/pulse/executor/execute", json=body, headers=traced)
    assert (failed.status_code, failed.headers["x-request-id"]) == (503, "req-review-3")
    served = await http.post("/pulse/executor/execute", json=body, headers=traced)
    assert (served.status_code, served.headers["x-request-id"]) == (200, "req-review-3")
    once = {"X-Viksa-Fault": "status=502;count=1"}
    assert (await http.post("/pulse/executor/execute", json=body, headers=once)).status_code == 502


@pytest.mark.parametrize("viksa_platform_config", [PlatformConfig(body_timeout=0.2)])
async def test_a_stalled_body_is_408_on_both_paths(viksa_platform: LocalPlatform) -> None:
    # The direct handler reads the body itself: the body deadline must end its wait as
    # it ends FastAPI's (408), never leave the request hanging.
    answers = [
        await _post_in_chunks(
            viksa_platform.app,
            "/pulse/executor/execute",
            {**_auth(viksa_platform), "Content-Type": content_type},
            [b'{"agent_id": '],
            complete=False,
        )
        for content_type in (_DIRECT, _FASTAPI)
    ]
    assert [(status, body["detail"]["code"]) for status, body in answers] == [
        (408, "body_timeout")
    ] * 2
