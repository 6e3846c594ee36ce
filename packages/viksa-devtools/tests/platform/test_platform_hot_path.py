"""What keeps pulse execute quick stays correct: kept targets, one-statement replaces,
body reads without a task of their own."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send

from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform.http import _body_limit
from viksa_ai.devtools.platform.http._body_limit import BodyLimitMiddleware
from viksa_ai.devtools.platform.services._errors import ConflictError, NotFoundError
from viksa_ai.devtools.platform.services._memo import Memo
from viksa_ai.devtools.platform.services._overview import Overview
from viksa_ai.devtools.platform.store._store import Store

Manifest = dict[str, Any]


def test_replace_adds_a_record_or_takes_the_place_of_one() -> None:
    store = Store()
    store.insert("idempotency", {"id": "a", "v": 0}, scope="s", expires=10.0)
    store.replace("idempotency", {"id": "b", "v": 1}, scope="s", expires=10.0)
    store.replace("idempotency", {"id": "a", "v": 2}, scope="s", expires=30.0)
    assert store.get("idempotency", "a") == {"id": "a", "v": 2}
    records, total = store.query("idempotency")
    assert (total, [r["id"] for r in records]) == (2, ["a", "b"])  # a kept its place
    assert store.purge_expired("idempotency", 20.0) == 1  # b; a's expiry moved on
    assert store.get("idempotency", "a") is not None
    assert store.get("idempotency", "b") is None


def test_webhook_deliveries_are_picked_without_loading_the_other_executions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The dashboard's triggers page: a project with many executions of its own (a busy
    # endpoint) used to load and parse every one of them to find the latest deliveries.
    store = Store()
    for i in range(300):
        triggered = i % 50 == 0
        record = {"id": f"e{i}", "trigger_id": "t1" if triggered else None, "n": i}
        store.insert("execution", record, scope="p1")
    store.insert("execution", {"id": "other", "trigger_id": "t9"}, scope="p2")
    loaded: list[str] = []
    loads = Store._loads

    def counting(self: Store, kind: str, record_id: str, text: str) -> Any:
        loaded.append(record_id)
        return loads(self, kind, record_id, text)

    monkeypatch.setattr(Store, "_loads", counting)
    found = Overview(store).deliveries("p1", limit=4)
    assert [r["id"] for r in found] == ["e250", "e200", "e150", "e100"]  # newest first
    assert loaded == ["e250", "e200", "e150", "e100"]
    records, total = store.query("execution", scope="p1", present=("trigger_id",))
    assert (total, [r["n"] for r in records]) == (6, [0, 50, 100, 150, 200, 250])


def test_replace_counts_as_a_change() -> None:
    store = Store()
    before = store.changes("idempotency")
    store.replace("idempotency", {"id": "a"}, scope="s")
    assert store.changes("idempotency") > before


_KINDS = st.sampled_from(["agent", "key", "session"])


@settings(database=None, derandomize=True, max_examples=100, deadline=None)
@given(
    groups=st.lists(st.lists(_KINDS, min_size=1, max_size=3).map(tuple), max_size=3),
    writes=st.lists(st.tuples(st.integers(0, 3), _KINDS | st.none()), max_size=12),
)
def test_a_change_counter_moves_exactly_when_a_kind_it_counts_is_written(
    groups: list[tuple[Any, ...]], writes: list[tuple[int, Any]]
) -> None:
    # What keeps a cached credential from outliving its revocation: every write of a
    # kind moves the counter of each group holding it (None: a whole scope deleted),
    # however many groups, and whenever each was first asked about.
    store = Store()
    asked: dict[tuple[Any, ...], int] = {}
    for step, (when, kind) in enumerate(writes):
        for group in groups[: when + 1]:
            asked.setdefault(group, store.changes(*group))
        if kind is None:
            store.delete_scope("nobody")
        else:
            store.replace(kind, {"id": f"r{step}"}, scope="p")
        for group, before in asked.items():
            moved = store.changes(*group) != before
            assert moved == (kind is None or kind in group)
            asked[group] = store.changes(*group)


def test_a_kept_target_follows_every_change_of_its_agent_or_deployment(
    viksa_platform: LocalPlatform, deployed: Manifest
) -> None:
    platform = viksa_platform.platform
    engine, store = platform.engine, platform.store
    project = deployed["project_id"]
    first = engine.target(project, deployed["id"], "echo")
    assert engine.target(project, deployed["id"], "echo") is first  # kept
    deployment = store.get("deployment", deployed["id"])
    assert deployment is not None
    store.save("deployment", {**deployment, "reconciled_at": "later"})
    moved = engine.target(project, deployed["id"], "echo")
    assert moved is not first
    assert moved.deployment["reconciled_at"] == "later"
    agent = store.get("agent", deployed["id"])
    assert agent is not None
    store.save("agent", {**agent, "status": "disabled"})
    with pytest.raises(ConflictError):
        engine.target(project, deployed["id"], "echo")
    store.delete("agent", deployed["id"])
    with pytest.raises(NotFoundError):
        engine.target(project, deployed["id"], "echo")


async def _run(
    http: httpx.AsyncClient, agent: Manifest, endpoint: str = "echo", **headers: str
) -> tuple[int, Any]:
    body = {
        "agent_id": agent["id"],
        "agent_type": "cloud",
        "endpoint": f"{agent['agent_alias']}.main.{endpoint}",
        "inputs": {"text": "t"} if endpoint == "echo" else {},
    }
    answer = await http.post("/pulse/executor/execute", json=body, headers=headers)
    payload = answer.json()
    found = payload.get("agent_id") if answer.status_code == 200 else payload["detail"]
    return answer.status_code, found


def _code(detail: Any) -> Any:
    return detail.get("code") if isinstance(detail, dict) else detail


async def _deploy(http: httpx.AsyncClient, agent_id: str, **headers: str) -> None:
    for route in ("/builder/builder/", "/builder/deploy/"):
        answer = await http.post(route, json={"agent_id": agent_id}, headers=headers)
        assert answer.status_code == 200, answer.text


async def test_no_route_change_is_missed_by_a_kept_target(
    http: httpx.AsyncClient,
    viksa_platform: LocalPlatform,
    deployed: Manifest,
    manifest: Callable[..., Manifest],
    another_account: Callable[[str, str], Awaitable[dict[str, str]]],
) -> None:
    agent_path = f"/builder/agent/{deployed['id']}"
    assert await _run(http, deployed) == (200, deployed["id"])  # kept from here on
    for path in (f"{agent_path}/status", f"{agent_path}/endpoint/echo/status"):
        off = await http.patch(path, json={"status": "disabled"})
        assert off.status_code == 200, off.text
        status, detail = await _run(http, deployed)
        expected = "endpoint_disabled" if "/endpoint/" in path else "agent_disabled"
        assert (status, _code(detail)) == (409, expected)
        assert (await http.patch(path, json={"status": "enabled"})).status_code == 200
        assert await _run(http, deployed) == (200, deployed["id"])
    # Another account, guessing the id: never the kept target.
    theirs = await another_account("mallory@example.com", "pw-mallory-1")
    assert (await _run(http, deployed, **theirs))[0] == 403
    # A second project of ours with an agent of the same alias: each project its own.
    creds = viksa_platform.credentials
    login = {"email": creds.email, "password": creds.password}
    token = (await http.post("/auth/individual/login", json=login)).json()["access_token"]
    user = {"Authorization": f"Bearer {token}"}
    made = {"org_id": creds.org_id, "name": "two"}
    two = (await http.post("/project/create", json=made, headers=user)).json()
    in_two = {**user, "X-Tenant-Project-Id": two["id"]}
    twin = (await http.post("/builder/agent/create", json=manifest(), headers=in_two)).json()
    await _deploy(http, twin["id"], **in_two)
    assert await _run(http, twin, **in_two) == (200, twin["id"])
    assert (await _run(http, deployed, **in_two))[0] == 404
    assert (await _run(http, twin))[0] == 404
    assert await _run(http, deployed) == (200, deployed["id"])
    # A redeploy without the endpoint: gone at once; the others still run.
    endpoints = [e for e in manifest()["agent_endpoints"] if e["name"] != "echo"]
    changed = await http.put(agent_path, json={"agent_endpoints": endpoints})
    assert changed.status_code == 200, changed.text
    assert await _run(http, deployed) == (200, deployed["id"])  # the deployed revision runs
    await _deploy(http, deployed["id"])
    status, detail = await _run(http, deployed)
    assert (status, "has no endpoint" in str(detail)) == (404, True)
    assert (await _run(http, deployed, "fail"))[0] == 200
    # Deleting the agent, then the second project.
    assert (await http.delete(agent_path)).status_code == 200
    assert (await _run(http, deployed, "fail"))[0] == 404
    assert (await http.delete(f"/project/{two['id']}", headers=user)).status_code == 200
    assert (await _run(http, twin, **in_two))[0] == 404
    # A whole org, with its project, its agent and a key of that project.
    org = (await http.post("/org/create", json={"name": "three"}, headers=user)).json()
    made = {"org_id": org["id"], "name": "three"}
    three = (await http.post("/project/create", json=made, headers=user)).json()
    in_three = {**user, "X-Tenant-Org-Id": org["id"], "X-Tenant-Project-Id": three["id"]}
    third = (await http.post("/builder/agent/create", json=manifest(), headers=in_three)).json()
    await _deploy(http, third["id"], **in_three)
    key = (await http.post("/auth/key/api", json={"name": "k"}, headers=in_three)).json()["key"]
    by_key = {"Authorization": f"Bearer {key}"}
    assert await _run(http, third, **by_key) == (200, third["id"])
    assert (await http.delete(f"/org/{org['id']}", headers=user)).status_code == 200
    assert (await _run(http, third, **in_three))[0] == 404
    assert (await _run(http, third, **by_key))[0] == 401


def test_a_value_read_inside_a_rolled_back_transaction_is_not_kept() -> None:
    # A cache filled from a write that is then rolled back must not outlive it.
    store = Store()
    memo: Memo[str] = Memo(store, ("agent",), ttl=60, size=8)
    store.insert("agent", {"id": "a", "name": "before"}, scope="p")

    def fill_then_fail() -> None:
        with store.transaction():
            store.save("agent", {"id": "a", "name": "undone"})
            version = memo.version()
            seen = store.get("agent", "a")
            assert seen is not None
            memo.put("a", seen["name"], version)
            raise RuntimeError("the block fails")

    with pytest.raises(RuntimeError):
        fill_then_fail()
    assert memo.get("a") is None
    kept = store.get("agent", "a")
    assert kept is not None
    assert kept["name"] == "before"


_TEXT = st.text(alphabet="aAbB%_\\é É", max_size=12)


@settings(database=None, derandomize=True, max_examples=200, deadline=None)
@given(fields=st.lists(_TEXT, max_size=4), search=_TEXT.filter(bool))
def test_search_finds_exactly_the_records_holding_the_text(fields: list[str], search: str) -> None:
    # Case folds as SQLite's lower() does: ASCII letters only.
    def folded(text: str) -> str:
        return "".join(c.lower() if c.isascii() else c for c in text)

    store = Store()
    for i, text in enumerate(fields):
        store.insert("message", {"id": f"m{i}", "content": text}, scope="p")
    found, total = store.query("message", search=search, search_fields=("content",))
    expected = [f"m{i}" for i, text in enumerate(fields) if folded(search) in folded(text)]
    assert ([doc["id"] for doc in found], total) == (expected, len(expected))


async def _through_body_limit(
    parts: list[bytes], clock: Callable[[], None] | None = None
) -> tuple[list[asyncio.Task[Any] | None], list[Message]]:
    """Send ``parts`` (all ready at once) through the body limit to an app reading them.

    The tasks the app's reads ran in, and what it answered.
    """
    tasks: list[asyncio.Task[Any] | None] = []
    queue = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        tasks.append(asyncio.current_task())
        if clock is not None:
            clock()
        return queue.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    await BodyLimitMiddleware(app, max_bytes=100, timeout=30.0)(scope, receive, send)
    return tasks, sent


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is 3.11+")
async def test_a_body_is_read_in_the_requests_own_task() -> None:
    # asyncio.wait_for (before 3.12) read each part in a task of its own: two more turns
    # of the event loop for every request with a body.
    tasks, sent = await _through_body_limit([b"a", b"b", b"c"])
    assert tasks == [asyncio.current_task()] * 3
    assert sent[0]["status"] == 204


async def test_a_part_ready_only_after_the_deadline_is_408(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As wait_for answered: once the time is up, a part already waiting is late too.
    now = [1000.0]

    def tick() -> None:
        now[0] += 20.0  # each part "arrives" 20 s after the one before: 30 s run out

    monkeypatch.setattr(_body_limit, "time", SimpleNamespace(monotonic=lambda: now[0]))
    _, sent = await _through_body_limit([b"a", b"b", b"c"], clock=tick)
    assert sent[0]["status"] == 408
    assert b'"body_timeout"' in sent[1]["body"]
