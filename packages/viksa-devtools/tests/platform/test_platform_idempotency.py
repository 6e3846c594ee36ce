"""Idempotency-Key records: expiry, answers holding credentials, marks of dead processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform, PlatformConfig
from viksa_ai.devtools.platform.http._headers import first_headers, route_path
from viksa_ai.devtools.platform.http._idempotency import record_id_of, tenant_owner
from viksa_ai.devtools.platform.store._kinds import Kind

_KIND: Kind = "idempotency"


@asynccontextmanager
async def _serving(local: LocalPlatform) -> AsyncIterator[httpx.AsyncClient]:
    # A user token: creating orgs is the account's business, which a project key may not do.
    c = local.credentials
    token = local.platform.accounts.login(c.email, c.password)["access_token"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=local.app),
        base_url="http://127.0.0.1",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        yield http


def _owner(local: LocalPlatform, token: str) -> str:
    """The Idempotency-Key owner of requests made with ``token`` and no tenant headers."""
    caller = local.platform.accounts.owner_of(token)
    assert caller is not None
    return tenant_owner(caller)


def _on_disk(data: Path) -> bytes:
    """Everything SQLite wrote: the database file and its write-ahead log."""
    return b"".join(p.read_bytes() for p in data.parent.glob(data.name + "*"))


async def test_expired_records_are_purged_when_a_key_is_claimed() -> None:
    local = LocalPlatform.start(PlatformConfig(idempotency_ttl=0.05))
    store = local.platform.store
    async with _serving(local) as http:
        first = await http.post("/org/create", json={"name": "a"}, headers={"Idempotency-Key": "a"})
        assert first.status_code == 201
        assert store.query(_KIND, limit=0)[1] == 1
        await asyncio.sleep(0.1)
        other = await http.post("/org/create", json={"name": "b"}, headers={"Idempotency-Key": "b"})
        assert other.status_code == 201
        kept, _ = store.query(_KIND)
        owner = _owner(local, http.headers["Authorization"].removeprefix("Bearer "))
        assert [k["id"] for k in kept] == [record_id_of(owner, "POST", "/org/create", "b")]
        # Past its expiry the key is free again: the request runs anew.
        again = await http.post("/org/create", json={"name": "a"}, headers={"Idempotency-Key": "a"})
        assert again.status_code == 201
        assert "idempotent-replayed" not in again.headers
        assert again.json()["id"] != first.json()["id"]
    await local.aclose()


async def test_answers_with_credentials_are_replayed_from_memory_never_stored(
    tmp_path: Path,
) -> None:
    data = tmp_path / "platform.db"
    config = PlatformConfig(data_path=data)
    local = LocalPlatform.start(config)
    creds = local.credentials
    login_body = {"email": creds.email, "password": creds.password}
    async with _serving(local) as http:
        created = await http.post(
            "/auth/key/api", json={"name": "ci"}, headers={"Idempotency-Key": "key-1"}
        )
        login = await http.post(
            "/auth/individual/login", json=login_body, headers={"Idempotency-Key": "login-1"}
        )
        assert (created.status_code, login.status_code) == (201, 200)
        for answer in (created, login):
            assert answer.headers["cache-control"] == "no-store"
        replayed = await http.post(
            "/auth/key/api", json={"name": "ci"}, headers={"Idempotency-Key": "key-1"}
        )
        assert replayed.headers["idempotent-replayed"] == "true"
        assert replayed.json()["key"] == created.json()["key"]
        listed = (await http.get("/auth/key/api")).json()
        assert [k["name"] for k in listed["keys"]].count("ci") == 1
    raw = _on_disk(data)
    for secret in (
        created.json()["key"],
        login.json()["access_token"],
        login.json()["refresh_token"],
    ):
        assert secret.encode() not in raw
    await local.aclose()
    restarted = LocalPlatform.start(config)
    async with _serving(restarted) as http:
        retried = await http.post(
            "/auth/key/api", json={"name": "ci"}, headers={"Idempotency-Key": "key-1"}
        )
    assert retried.status_code == 409
    assert retried.json()["detail"]["code"] == "idempotency_answer_not_kept"
    await restarted.aclose()


async def test_an_in_flight_mark_left_in_the_data_file_does_not_block_the_retry(
    viksa_platform: LocalPlatform, http: httpx.AsyncClient
) -> None:
    # Earlier versions kept in-flight marks in the data file: one a stopped process left
    # behind must not answer 409 forever.
    mark = {
        "id": record_id_of(
            _owner(viksa_platform, viksa_platform.credentials.api_key),
            "POST",
            "/builder/secret/create",
            "k-dead",
        ),
        "state": "in_flight",
        "boot": "a process that is gone",
        "fingerprint": "whatever",
        "started_at": time.time(),
    }
    viksa_platform.platform.store.insert(_KIND, mark, scope=_KIND, expires=time.time() + 60)
    answer = await http.post(
        "/builder/secret/create",
        json={"name": "o", "value": "v"},
        headers={"Idempotency-Key": "k-dead"},
    )
    assert answer.status_code == 201


async def test_answers_with_tokens_or_secrets_say_no_store(
    http: httpx.AsyncClient, deployed: dict[str, Any]
) -> None:
    trigger = await http.post(
        "/chat/trigger", json={"agent_id": deployed["id"], "endpoint": "echo.main.echo"}
    )
    secret = await http.get(f"/builder/secret/{deployed['secret_id']}")
    listed = await http.get("/builder/secret/list")
    assert (trigger.status_code, secret.status_code) == (201, 200)
    assert trigger.headers["cache-control"] == secret.headers["cache-control"] == "no-store"
    assert "cache-control" not in listed.headers


async def test_a_key_still_running_is_409_and_another_body_422(
    http: httpx.AsyncClient, deployed: dict[str, Any]
) -> None:
    body = {
        "agent_id": deployed["id"],
        "agent_type": "cloud",
        "endpoint": "echo.main.slow",
        "inputs": {"seconds": 0.6},
    }
    # A warm worker first: starting one (sandboxed) on a loaded machine can take a good
    # part of the endpoint's 1 s timeout, and this test is about the key, not the clock.
    warm = await http.post("/pulse/executor/execute", json={**body, "inputs": {"seconds": 0}})
    assert warm.json()["status"] == "completed", warm.text
    key = {"Idempotency-Key": "slow-1"}
    first = asyncio.ensure_future(http.post("/pulse/executor/execute", json=body, headers=key))
    await asyncio.sleep(0.2)
    during = await http.post("/pulse/executor/execute", json=body, headers=key)
    assert (during.status_code, during.json()["detail"]["code"]) == (
        409,
        "idempotency_in_progress",
    )
    done = await first
    assert done.json()["status"] == "completed"
    again = await http.post("/pulse/executor/execute", json=body, headers=key)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["execution_id"] == done.json()["execution_id"]
    other = await http.post(
        "/pulse/executor/execute", json={**body, "inputs": {"seconds": 0}}, headers=key
    )
    assert (other.status_code, other.json()["detail"]["code"]) == (422, "idempotency_key_reused")


def _org_create_scope(token: str, key: bytes) -> dict[str, Any]:
    """The ASGI scope of POST /org/create with ``key``, for a test's own ``send``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/org/create",
        "raw_path": b"/org/create",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"idempotency-key", key),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


async def test_an_answer_lost_on_the_way_to_the_client_is_replayed_to_its_retry() -> None:
    # The connection breaks while the answer is sent (the client's reason to retry): the
    # write ran once, and the retry with the same key gets its answer.
    local = LocalPlatform.start()
    try:
        c = local.credentials
        token = local.platform.accounts.login(c.email, c.password)["access_token"]
        body = b'{"name": "Lost answer"}'
        scope = _org_create_scope(token, b"lost-1")
        sent: list[MutableMapping[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def broken_send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body":
                raise OSError("connection reset by peer")

        with pytest.raises(OSError, match="connection reset"):
            await local.app(scope, receive, broken_send)
        assert sent[0]["status"] == 201
        async with _serving(local) as http:
            retry = await http.post(
                "/org/create", content=body, headers={"Idempotency-Key": "lost-1"}
            )
            assert retry.headers["idempotent-replayed"] == "true"
            assert retry.content == sent[1]["body"]
            orgs = (await http.get("/org/list")).json()
        assert [o["name"] for o in orgs].count("Lost answer") == 1
    finally:
        await local.aclose()


async def test_a_key_of_another_project_never_replays_an_answer(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    # Two API keys of one account, each speaking for its own project.
    login = {
        "email": viksa_platform.credentials.email,
        "password": viksa_platform.credentials.password,
    }
    tokens = (await http.post("/auth/individual/login", json=login)).json()
    user = {"Authorization": f"Bearer {tokens['access_token']}"}
    project = (await http.post("/project/create", json={"name": "second"}, headers=user)).json()
    switched = await http.post(
        "/auth/switch-project", json={"project_id": project["id"]}, headers=user
    )
    second = {"Authorization": f"Bearer {switched.json()['access_token']}"}
    key = (await http.post("/auth/key/api", json={"name": "k2"}, headers=second)).json()["key"]
    body = {"name": "same"}
    headers = {"Idempotency-Key": "shared"}
    first = await http.post("/builder/secret/create", json={**body, "value": "a"}, headers=headers)
    other = await http.post(
        "/builder/secret/create",
        json={**body, "value": "a"},
        headers={**headers, "Authorization": f"Bearer {key}"},
    )
    assert (first.status_code, other.status_code) == (201, 201)
    assert "idempotent-replayed" not in other.headers
    assert other.json()["id"] != first.json()["id"]
    listed = await http.get("/builder/secret/list", headers={"Authorization": f"Bearer {key}"})
    assert [s["id"] for s in listed.json()["secrets"]] == [other.json()["id"]]


async def test_a_weaker_credential_of_the_project_never_gets_a_replayed_answer(
    http: httpx.AsyncClient,
) -> None:
    # A worker key of the project may not create API keys: a replay of its user's
    # answer (the new key's secret) would hand it one all the same.
    made = await http.post("/auth/key/worker", json={"name": "agent"})
    worker = {"Authorization": f"Bearer {made.json()['key']}"}
    headers = {"Idempotency-Key": "ci-key"}
    created = await http.post("/auth/key/api", json={"name": "ci"}, headers=headers)
    assert created.status_code == 201, created.text
    again = await http.post("/auth/key/api", json={"name": "ci"}, headers={**headers, **worker})
    assert again.status_code == 403
    assert "idempotent-replayed" not in again.headers
    assert created.json()["key"] not in again.text


async def test_the_same_key_with_another_query_is_422(
    http: httpx.AsyncClient, deployed: dict[str, Any]
) -> None:
    headers = {"Idempotency-Key": "del-1"}
    route = f"/builder/secret/{deployed['secret_id']}"
    in_use = await http.delete(route, headers=headers)
    assert (in_use.status_code, in_use.json()["detail"]["code"]) == (409, "secret_in_use")
    forced = await http.delete(route, params={"force": "true"}, headers=headers)
    assert (forced.status_code, forced.json()["detail"]["code"]) == (422, "idempotency_key_reused")
    assert (await http.delete(route, params={"force": "true"})).status_code == 200


async def test_a_repeated_idempotency_key_header_is_read_as_the_routes_read_it(
    http: httpx.AsyncClient,
) -> None:
    # Routes read the first of repeated headers; so does the key's record.
    body = {"name": "twice", "value": "v"}
    first = await http.post(
        "/builder/secret/create",
        json=body,
        headers=[("Idempotency-Key", "first"), ("Idempotency-Key", "second")],
    )
    assert first.status_code == 201, first.text
    retry = await http.post(
        "/builder/secret/create", json=body, headers={"Idempotency-Key": "first"}
    )
    assert (retry.status_code, retry.headers.get("idempotent-replayed")) == (201, "true")
    assert retry.json()["id"] == first.json()["id"]
    other = await http.post(
        "/builder/secret/create", json=body, headers={"Idempotency-Key": "second"}
    )
    assert "idempotent-replayed" not in other.headers


async def test_a_repeated_tenant_header_keys_the_answer_to_the_tenant_acted_in(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    c = viksa_platform.credentials
    token = viksa_platform.platform.accounts.login(c.email, c.password)["access_token"]
    user = {"Authorization": f"Bearer {token}"}
    second = (await http.post("/project/create", json={"name": "second"}, headers=user)).json()
    body = {"name": "here", "value": "v"}
    acted = await http.post(
        "/builder/secret/create",
        json=body,
        headers=[
            ("Authorization", user["Authorization"]),
            ("Idempotency-Key", "k"),
            ("X-Tenant-Project-Id", second["id"]),
            ("X-Tenant-Project-Id", c.project_id),
        ],
    )
    assert acted.status_code == 201, acted.text
    in_second = {**user, "X-Tenant-Project-Id": second["id"]}
    listed = (await http.get("/builder/secret/list", headers=in_second)).json()["secrets"]
    assert [s["id"] for s in listed] == [acted.json()["id"]]
    retry = await http.post(
        "/builder/secret/create", json=body, headers={**in_second, "Idempotency-Key": "k"}
    )
    assert (retry.status_code, retry.headers.get("idempotent-replayed")) == (201, "true")
    assert retry.json()["id"] == acted.json()["id"]
    # The project named last was not acted in: the key means nothing there.
    in_seeded = {**user, "X-Tenant-Project-Id": c.project_id, "Idempotency-Key": "k"}
    fresh = await http.post("/builder/secret/create", json=body, headers=in_seeded)
    assert (fresh.status_code, fresh.headers.get("idempotent-replayed")) == (201, None)
    assert fresh.json()["id"] != acted.json()["id"]


def test_first_headers_keeps_the_first_of_repeated_headers() -> None:
    scope = {"headers": [(b"a", b"1"), (b"b", b"2"), (b"a", b"3")]}
    assert first_headers(scope) == {b"a": b"1", b"b": b"2"}


@pytest.mark.parametrize(
    ("root", "path", "routed"),
    [
        ("", "/_dev/faults", "/_dev/faults"),
        ("/viksa", "/viksa/_dev/faults", "/_dev/faults"),
        ("/viksa", "/viksa", "/"),
        # Only a whole segment is the root: /viksax/... is not under /viksa.
        ("/viksa", "/viksax/_dev/faults", "/viksax/_dev/faults"),
        ("/viksa", "/builder/agent/list", "/builder/agent/list"),
    ],
)
def test_middleware_tells_routes_apart_by_the_path_the_router_matches(
    root: str, path: str, routed: str
) -> None:
    assert route_path({"type": "http", "path": path, "root_path": root}) == routed


async def test_a_retry_while_the_answer_is_still_being_sent_gets_that_answer() -> None:
    # The server's send waits while the socket drains (a large answer, a slow reader);
    # a client whose read timed out retries meanwhile. The answer is complete and will be
    # kept: the retry gets it, not "still running" (review 26: it was 409).
    local = LocalPlatform.start()
    try:
        c = local.credentials
        token = local.platform.accounts.login(c.email, c.password)["access_token"]
        body = b'{"name": "Slow reader"}'
        scope = _org_create_scope(token, b"slow-1")
        sent: list[MutableMapping[str, Any]] = []
        draining, drained = asyncio.Event(), asyncio.Event()

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def slow_send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body":
                draining.set()
                await drained.wait()

        first = asyncio.ensure_future(local.app(scope, receive, slow_send))
        await asyncio.wait_for(draining.wait(), 30)
        try:
            async with _serving(local) as http:
                retry = await http.post(
                    "/org/create", content=body, headers={"Idempotency-Key": "slow-1"}
                )
                assert retry.status_code == 201, retry.text
                assert retry.headers["idempotent-replayed"] == "true"
                assert retry.content == sent[1]["body"]
        finally:
            drained.set()
            await first
        async with _serving(local) as http:
            orgs = (await http.get("/org/list")).json()
        assert [o["name"] for o in orgs].count("Slow reader") == 1
    finally:
        await local.aclose()
