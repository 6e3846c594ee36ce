"""Chat: conversations, the deterministic assistant, SSE streams, triggers and webhooks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform.http._dashboard._pages import triggers_body
from viksa_ai.devtools.platform.services._triggers import public_trigger

Manifest = dict[str, Any]


def _events(text: str) -> list[Any]:
    """The data of every SSE event of a body; ``[DONE]`` stays a string."""
    data = [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]
    return [item if item == "[DONE]" else json.loads(item) for item in data]


def _pause_executions(
    viksa_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> tuple[asyncio.Event, asyncio.Event]:
    """Hold every execution until ``release`` is set; ``running`` tells one started."""
    engine = viksa_platform.platform.engine
    running, release = asyncio.Event(), asyncio.Event()
    execute = engine.execute

    async def paused(*args: Any, **kwargs: Any) -> Any:
        running.set()
        await release.wait()
        return await execute(*args, **kwargs)

    monkeypatch.setattr(engine, "execute", paused)
    return running, release


async def test_indent_finder_lists_endpoints_then_runs_a_named_one(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    listed = await http.post("/chat/indent_finder", json={"message": "what can you do?"})
    assert listed.headers["x-viksa-deterministic"] == "true"
    answer = listed.json()
    assert (answer["intent"], answer["deterministic"]) == ("list_endpoints", True)
    assert "echo.main.echo" in [e["endpoint"] for e in answer["endpoints"]]
    ran = (
        await http.post(
            "/chat/indent_finder",
            json={
                "message": 'run echo.main.echo {"text": "hello"}',
                "conversation_id": answer["conversation_id"],
            },
        )
    ).json()
    assert ran["intent"] == "execute_endpoint"
    assert ran["execution"]["response"]["text"] == "hello"
    conversation = (await http.get(f"/chat/conversations/{answer['conversation_id']}")).json()
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant"] * 2
    assert conversation["message_count"] == 4
    events = (await http.get(f"/chat/executions/{ran['execution']['execution_id']}/events")).json()
    assert [e["type"] for e in events["events"]] == ["execution.created", "execution.completed"]


async def test_stream_indent_finder_is_sse_ending_with_done(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    del deployed
    async with http.stream(
        "POST", "/chat/indent_finder/stream", json={"message": 'echo.main.echo {"text": "s"}'}
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = (await response.aread()).decode()
    events = _events(body)
    assert events[-1] == "[DONE]"
    kinds = [e["type"] for e in events[:-1]]
    assert kinds[0] == "conversation"
    assert "execution.finished" in kinds
    assert "message.delta" in kinds
    assert kinds[-1] == "result"
    assert (await http.post("/chat/indent_finder/stream", json={})).status_code == 422


@pytest.mark.parametrize(
    ("inputs", "where"),
    [
        ('{"text": "\\ud800"}', "input text"),
        ('{"text": "x", "seconds": NaN}', "input seconds"),
        ('{"text": "x", "seconds": -1e400}', "input seconds"),
        ('{"text": ' + "[" * 100 + "]" * 100 + "}", "input text"),
        ('{"text": ' + "[" * 50_000 + "]" * 50_000 + "}", "the inputs after the endpoint"),
    ],
    ids=["lone-surrogate", "nan", "minus-1e400", "100-deep", "50000-deep"],
)
async def test_inputs_in_a_chat_message_are_held_to_strict_json(
    http: httpx.AsyncClient, deployed: Manifest, inputs: str, where: str
) -> None:
    # Python's parser reads these; a run of them was a 500 (deep), a 422 after the user's
    # message was stored, or a stream reset mid-answer. Now the assistant says why.
    message = {"message": f"echo.main.echo {inputs}"}
    answer = await http.post("/chat/indent_finder", json=message)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["intent"], where in answer.json()["response"]) == ("list_endpoints", True)
    streamed = _events((await http.post("/chat/indent_finder/stream", json=message)).text)
    assert (streamed[-2]["type"], streamed[-1]) == ("result", "[DONE]")
    assert (await http.get("/pulse/executor/executions")).json()["total"] == 0
    assert (await http.get("/chat/conversations")).json()["total"] == 2


async def test_a_conversation_keeps_a_title_and_metadata_of_their_types(
    http: httpx.AsyncClient,
) -> None:
    cid = (await http.post("/chat/message", json={"content": "hi"})).json()["conversation_id"]
    route = f"/chat/conversations/{cid}"
    for change in ({"title": {"a": 1}}, {"title": ["t"]}, {"metadata": [1]}, {"metadata": "m"}):
        refused = await http.patch(route, json=change)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["body", *change]
    # The messages are records of their own: a body cannot plant others in the listing.
    planted = await http.patch(route, json={"title": "t", "messages": [{"id": "fake"}]})
    assert planted.status_code == 200, planted.text
    [listed] = (await http.get("/chat/conversations")).json()["conversations"]
    assert (listed["title"], "messages" in listed) == ("t", False)
    got = (await http.get(route)).json()
    assert [m["content"] for m in got["messages"]] == ["hi"]


async def test_conversations_messages_search_and_token_stats(http: httpx.AsyncClient) -> None:
    first = (await http.post("/chat/message", json={"content": "alpha beta gamma"})).json()
    cid = first["conversation_id"]
    await http.post(
        "/chat/message", json={"conversation_id": cid, "content": "delta", "role": "assistant"}
    )
    listed = (await http.get("/chat/conversations")).json()
    assert [c["id"] for c in listed["conversations"]] == [cid]
    patched = (
        await http.patch(f"/chat/conversations/{cid}", json={"title": "T", "id": "x"})
    ).json()
    assert (patched["title"], patched["id"]) == ("T", cid)
    found = (await http.post("/chat/search", json={"query": "BETA"})).json()
    assert [m["id"] for m in found["results"]] == [first["id"]]
    stats = (await http.get("/chat/stats/tokens", params={"conversation_id": cid})).json()
    assert (stats["prompt_tokens"], stats["completion_tokens"], stats["deterministic"]) == (
        3,
        1,
        True,
    )
    assert (await http.delete(f"/chat/messages/{first['id']}")).status_code == 200
    assert (await http.get(f"/chat/conversations/{cid}")).json()["message_count"] == 1
    assert (await http.delete(f"/chat/conversations/{cid}")).status_code == 200
    assert (await http.get(f"/chat/conversations/{cid}")).status_code == 404


async def test_generate_agent_is_deterministic_and_valid(http: httpx.AsyncClient) -> None:
    first = await http.post("/chat/generate/agent", json={"prompt": "Track parcels"})
    second = await http.post("/chat/generate/agent", json={"prompt": "Track parcels"})
    assert first.json() == second.json()
    assert first.headers["x-viksa-deterministic"] == "true"
    manifest = first.json()
    assert "deterministically" in manifest["agent_description"]
    created = await http.post("/builder/agent/create", json={**manifest, "agent_alias": "parcels"})
    assert created.status_code == 201, created.text
    built = await http.post("/builder/builder/", json={"agent_id": created.json()["id"]})
    assert built.json()["status"] == "built"


async def test_fix_agent_returns_the_validators_issues(
    http: httpx.AsyncClient, manifest: Callable[..., Manifest]
) -> None:
    good = (await http.post("/chat/fix/agent", json={"agent": manifest()})).json()
    assert (good["valid"], good["issues"], good["deterministic"]) == (True, [], True)
    broken = {**manifest(), "files": []}
    bad = (await http.post("/chat/fix/agent", json=broken)).json()
    assert bad["valid"] is False
    assert bad["issues"]
    assert bad["agent"] == broken


@pytest.mark.parametrize("route", ["/chat/generate/agent", "/chat/fix/agent"])
async def test_the_assistant_routes_need_a_credential(
    http: httpx.AsyncClient, route: str, manifest: Callable[..., Manifest]
) -> None:
    # Like every chat route: otherwise any local process (a sandboxed agent over
    # loopback included) could keep the validator's worker busy without an account.
    body = {"prompt": "Track parcels", "agent": manifest()}
    anonymous = await http.post(route, json=body, headers={"Authorization": ""})
    assert anonymous.status_code == 401, anonymous.text
    forged = await http.post(route, json=body, headers={"Authorization": "Bearer vk_forged"})
    assert forged.status_code == 401, forged.text
    assert (await http.post(route, json=body)).status_code == 200


async def test_execution_control_of_a_conversation(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    del deployed
    chat = (await http.post("/chat/message", json={"content": "hi"})).json()
    cid = chat["conversation_id"]
    idle = (await http.get(f"/chat/execution/{cid}/active")).json()
    assert (idle["active"], idle["execution"]) == (False, None)
    assert (await http.post(f"/chat/execution/{cid}/cancel")).status_code == 409
    assert (await http.get(f"/chat/execution/{cid}/stream")).status_code == 404
    ran = (
        await http.post(
            "/chat/indent_finder",
            json={"message": 'echo.main.echo {"text": "x"}', "conversation_id": cid},
        )
    ).json()
    streamed = _events((await http.get(f"/chat/execution/{cid}/stream")).text)
    assert streamed[-1] == "[DONE]"
    assert streamed[-2]["type"] == "execution.completed"
    execution_id = ran["execution"]["execution_id"]
    base = f"/chat/executions/{execution_id}/debug"
    assert (await http.post(f"{base}/resume")).status_code == 409
    started = (await http.post(f"{base}/start", json={"breakpoints": ["echo"]})).json()
    assert started["debug"]["state"] == "paused"
    assert (await http.post(f"{base}/resume", json={})).json()["debug"]["state"] == "running"
    inspected = (await http.post(f"{base}/inspect", json={})).json()
    assert inspected["execution"]["inputs"] == {"text": "x"}
    assert (await http.post(f"{base}/stop")).json()["debug"]["state"] == "stopped"


async def test_triggers_and_public_webhooks(http: httpx.AsyncClient, deployed: Manifest) -> None:
    created = await http.post(
        "/chat/trigger",
        json={"name": "hook", "agent_id": deployed["id"], "endpoint": "echo.main.echo"},
    )
    assert created.status_code == 201
    trigger = created.json()
    token = trigger["webhook_token"]
    assert "token_hash" not in trigger
    listed = await http.get("/chat/trigger")
    assert token not in listed.text
    assert listed.json()["total"] == 1
    public = httpx.AsyncClient(transport=http._transport, base_url="http://127.0.0.1")
    url = f"/chat/webhook/trigger/{trigger['id']}"
    auth = {"Authorization": f"Bearer {token}"}
    async with public:
        assert (await public.post(url, json={"text": "x"})).status_code == 401
        assert (await public.get(f"{url}/health", headers=auth)).json()["status"] == "ok"
        invoked = (await public.post(url, json={"text": "w"}, headers=auth)).json()
        assert (invoked["status"], invoked["response"]["text"]) == ("completed", "w")
        assert (await public.post(url, json={"text": 1}, headers=auth)).status_code == 422
        streamed = _events(
            (await public.post(f"{url}/stream", json={"text": "s"}, headers=auth)).text
        )
        assert [e if e == "[DONE]" else e["type"] for e in streamed] == [
            "execution.started",
            "execution.completed",
            "[DONE]",
        ]
        assert (await public.post("/chat/webhook/trigger/trg_0", json={})).status_code == 404
    tested = _events(
        (await http.post(f"/chat/trigger/{trigger['id']}/test", json={"text": "t"})).text
    )
    assert tested[1]["response"]["text"] == "t"
    runs = (await http.get(f"/chat/trigger/{trigger['id']}/executions")).json()
    assert [r["source"] for r in runs["executions"]] == [
        "trigger.test",
        "webhook.stream",
        "webhook",
    ]
    rotated = (
        await http.patch(f"/chat/trigger/{trigger['id']}", json={"rotate_token": True})
    ).json()
    assert rotated["webhook_token"] != token
    disabled = await http.patch(f"/chat/trigger/{trigger['id']}", json={"enabled": False})
    assert disabled.json()["enabled"] is False
    bad = await http.post("/chat/trigger", json={"agent_id": deployed["id"], "endpoint": "x.y.z"})
    assert bad.status_code == 422
    assert (await http.delete(f"/chat/trigger/{trigger['id']}")).status_code == 200


@pytest.mark.parametrize(
    "switch",
    [{"enabled": "false"}, {"enabled": 0}, {"require_token": ""}, {"require_token": 0}],
)
async def test_a_trigger_switch_must_be_a_boolean(
    http: httpx.AsyncClient, deployed: Manifest, switch: dict[str, Any]
) -> None:
    # "false" is truthy: the webhook kept running; 0 or "" is falsy: anyone could call it.
    target = {"agent_id": deployed["id"], "endpoint": "echo.main.echo"}
    refused = await http.post("/chat/trigger", json={**target, **switch})
    assert refused.status_code == 422, refused.text
    [field] = switch
    assert refused.json()["detail"][0]["loc"] == ["body", field]
    assert (await http.get("/chat/trigger")).json()["total"] == 0
    trigger = (await http.post("/chat/trigger", json=target)).json()
    patched = await http.patch(f"/chat/trigger/{trigger['id']}", json=switch)
    assert patched.status_code == 422, patched.text
    stored = (await http.get(f"/chat/trigger/{trigger['id']}")).json()
    assert (stored["enabled"], stored["require_token"]) == (True, True)
    public = httpx.AsyncClient(transport=http._transport, base_url="http://127.0.0.1")
    async with public:
        url = f"/chat/webhook/trigger/{trigger['id']}"
        assert (await public.post(url, json={"text": "x"})).status_code == 401


async def test_a_trigger_body_cannot_set_what_the_platform_keeps(
    http: httpx.AsyncClient, deployed: Manifest
) -> None:
    planted = {"webhook_token": "vwh_not-the-token", "last_triggered_at": {"a": 1}}
    target = {"agent_id": deployed["id"], "endpoint": "echo.main.echo"}
    made = (await http.post("/chat/trigger", json={**target, **planted})).json()
    assert made["webhook_token"] != planted["webhook_token"]
    assert (await http.patch(f"/chat/trigger/{made['id']}", json=planted)).status_code == 200
    for shown in (
        (await http.get(f"/chat/trigger/{made['id']}")).json(),
        (await http.get("/chat/trigger")).json()["triggers"][0],
    ):
        assert ("webhook_token" in shown, shown["last_triggered_at"]) == (False, None)


async def test_a_trigger_stored_with_a_switch_of_another_type_fails_closed(
    http: httpx.AsyncClient, deployed: Manifest, viksa_platform: LocalPlatform
) -> None:
    # As an earlier version stored them: a string switch disables, never opens, a webhook.
    target = {"agent_id": deployed["id"], "endpoint": "echo.main.echo"}
    trigger = (await http.post("/chat/trigger", json=target)).json()
    store = viksa_platform.platform.store
    stored = store.get("trigger", trigger["id"])
    assert stored is not None
    store.save("trigger", {**stored, "enabled": "false", "require_token": ""})
    public = httpx.AsyncClient(transport=http._transport, base_url="http://127.0.0.1")
    async with public:
        url = f"/chat/webhook/trigger/{trigger['id']}"
        assert (await public.post(url, json={"text": "x"})).status_code == 401
        auth = {"Authorization": f"Bearer {trigger['webhook_token']}"}
        disabled = await public.post(url, json={"text": "x"}, headers=auth)
        assert (disabled.status_code, disabled.json()["detail"]["code"]) == (
            409,
            "trigger_disabled",
        )
        # What the webhook's health and the dashboard say is what it does.
        health = (await public.get(f"{url}/health", headers=auth)).json()
        assert (health["status"], health["enabled"]) == ("disabled", False)
    # So do the API's answers (booleans, as models.Trigger declares).
    got = (await http.get(f"/chat/trigger/{trigger['id']}")).json()
    assert (got["enabled"], got["require_token"]) == (False, True)
    [listed] = (await http.get("/chat/trigger")).json()["triggers"]
    assert (listed["enabled"], listed["require_token"]) == (False, True)
    page = triggers_body([public_trigger({**stored, "enabled": "false"})], [])
    assert ">disabled<" in page
    assert ">enabled<" not in page


# -- two accounts against each other (review 3) ---------------------------------------------

MARKET = "/marketplace/api/v1/marketplace"


async def test_another_account_reaches_nothing_of_a_conversation(
    http: httpx.AsyncClient,
    deployed: Manifest,
    another_account: Callable[[str, str], Awaitable[dict[str, str]]],
) -> None:
    guarded = {"message": 'echo.main.guarded {"text": "mine"}'}
    ran = (await http.post("/chat/indent_finder", json=guarded)).json()
    cid, execution = ran["conversation_id"], ran["execution"]
    assert execution["status"] == "awaiting_approval"
    eid = execution["execution_id"]
    message = (
        await http.post("/chat/message", json={"content": "x", "conversation_id": cid})
    ).json()
    base = f"/chat/executions/{eid}/debug"
    assert (await http.post(f"{base}/start", json={})).status_code == 200
    eve = await another_account("eve@example.com", "pw-eve-123")
    attempts = {
        "read": await http.get(f"/chat/conversations/{cid}", headers=eve),
        "rename": await http.patch(f"/chat/conversations/{cid}", json={"title": "x"}, headers=eve),
        "delete": await http.delete(f"/chat/conversations/{cid}", headers=eve),
        "delete a message": await http.delete(f"/chat/messages/{message['id']}", headers=eve),
        "post into it": await http.post(
            "/chat/message", json={"content": "hi", "conversation_id": cid}, headers=eve
        ),
        "chat into it": await http.post(
            "/chat/indent_finder", json={**guarded, "conversation_id": cid}, headers=eve
        ),
        "stream into it": await http.post(
            "/chat/indent_finder/stream", json={**guarded, "conversation_id": cid}, headers=eve
        ),
        "cancel its run": await http.post(f"/chat/execution/{cid}/cancel", headers=eve),
        "its active run": await http.get(f"/chat/execution/{cid}/active", headers=eve),
        "its run's stream": await http.get(f"/chat/execution/{cid}/stream", headers=eve),
        "the run's events": await http.get(f"/chat/executions/{eid}/events", headers=eve),
        **{
            f"debug {verb}": await http.post(f"{base}/{verb}", json={}, headers=eve)
            for verb in ("start", "resume", "inspect", "stop")
        },
    }
    assert {what: a.status_code for what, a in attempts.items() if a.status_code != 403} == {}
    for answer in attempts.values():
        assert "mine" not in answer.text
    # A conversation that is nobody's fails before a stream starts too.
    gone = {**guarded, "conversation_id": "cnv_none"}
    assert (await http.post("/chat/indent_finder/stream", json=gone)).status_code == 404
    # Their own views of the chat show nothing of ours.
    stats = await http.get("/chat/stats/tokens", params={"conversation_id": cid}, headers=eve)
    assert stats.json()["messages"] == 0
    search = await http.post("/chat/search", json={"query": "mine"}, headers=eve)
    assert search.json()["total"] == 0
    assert (await http.get("/chat/conversations", headers=eve)).json()["total"] == 0
    # And ours is untouched: still there, still awaiting approval, still being debugged.
    mine = (await http.get(f"/chat/conversations/{cid}")).json()
    assert (mine["title"], mine["message_count"]) == (guarded["message"][:80], 3)
    assert (await http.get(f"/chat/execution/{cid}/active")).json()["active"] is True
    inspected = (await http.post(f"{base}/inspect", json={})).json()
    assert inspected["debug"]["state"] == "paused"


async def test_another_account_uses_only_what_is_published(
    http: httpx.AsyncClient,
    deployed: Manifest,
    another_account: Callable[[str, str], Awaitable[dict[str, str]]],
) -> None:
    await http.post(f"{MARKET}/publishers/profile", json={"display_name": "Me"})
    listing = {"agent_id": deployed["id"], "category": "data"}
    draft = (await http.post(f"{MARKET}/listings", json=listing)).json()
    public = (await http.post(f"{MARKET}/listings", json=listing)).json()
    assert (await http.post(f"{MARKET}/listings/{public['id']}/publish")).status_code == 200
    eve = await another_account("eve@example.com", "pw-eve-123")
    assert (
        await http.post(f"{MARKET}/publishers/profile", json={}, headers=eve)
    ).status_code == 201
    refused = {
        "read a draft": await http.get(f"{MARKET}/listings/{draft['id']}", headers=eve),
        "publish a draft": await http.post(f"{MARKET}/listings/{draft['id']}/publish", headers=eve),
        "install a draft": await http.post(
            f"{MARKET}/listings/{draft['id']}/install", json={}, headers=eve
        ),
        "publish ours again": await http.post(
            f"{MARKET}/listings/{public['id']}/publish", json={"name": "hijacked"}, headers=eve
        ),
        "list our agent": await http.post(f"{MARKET}/listings", json=listing, headers=eve),
        "publish our agent": await http.post(
            f"{MARKET}/workforce/publish", json={"agent_ids": [deployed["id"]]}, headers=eve
        ),
    }
    statuses = {what: answer.status_code for what, answer in refused.items()}
    assert statuses == {
        "read a draft": 404,
        "publish a draft": 404,
        "install a draft": 404,
        "publish ours again": 404,
        "list our agent": 403,
        "publish our agent": 403,
    }
    listed = await http.get(f"{MARKET}/listings", params={"status": "draft"}, headers=eve)
    assert listed.json()["total"] == 0
    mine = (await http.get(f"{MARKET}/listings/{public['id']}")).json()
    assert (mine["name"], mine["installs"]) == (public["name"], 0)
    # What is published, they may install: a copy in their project, without our vault.
    copy = await http.post(f"{MARKET}/listings/{public['id']}/install", json={}, headers=eve)
    assert copy.status_code == 201, copy.text
    assert "auth_methods" not in copy.json()["agent"]
    assert copy.json()["agent"]["project_id"] == eve["X-Tenant-Project-Id"]
    assert (await http.get(f"{MARKET}/install")).json()["total"] == 0
    assert (await http.get(f"{MARKET}/install", headers=eve)).json()["total"] == 1


async def test_a_chat_turn_keeps_what_changed_in_its_conversation_while_it_ran(
    http: httpx.AsyncClient,
    deployed: Manifest,
    viksa_platform: LocalPlatform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    del deployed
    cid = (await http.post("/chat/message", json={"content": "hi"})).json()["conversation_id"]
    running, release = _pause_executions(viksa_platform, monkeypatch)
    turn = asyncio.ensure_future(
        http.post(
            "/chat/indent_finder",
            json={"message": 'echo.main.echo {"text": "x"}', "conversation_id": cid},
        )
    )
    await asyncio.wait_for(running.wait(), timeout=30)
    renamed = await http.patch(f"/chat/conversations/{cid}", json={"title": "renamed"})
    assert renamed.status_code == 200, renamed.text
    posted = await http.post("/chat/message", json={"content": "meanwhile", "conversation_id": cid})
    assert posted.status_code == 201, posted.text
    release.set()
    assert (await turn).status_code == 200
    found = (await http.get(f"/chat/conversations/{cid}")).json()
    assert found["title"] == "renamed"
    assert found["message_count"] == len(found["messages"]) == 4


@pytest.mark.parametrize("route", ["/chat/indent_finder", "/chat/indent_finder/stream"])
async def test_a_turn_whose_conversation_was_deleted_meanwhile_stores_nothing(
    http: httpx.AsyncClient,
    deployed: Manifest,
    viksa_platform: LocalPlatform,
    monkeypatch: pytest.MonkeyPatch,
    route: str,
) -> None:
    del deployed
    cid = (await http.post("/chat/message", json={"content": "hi"})).json()["conversation_id"]
    running, release = _pause_executions(viksa_platform, monkeypatch)
    text = 'echo.main.echo {"text": "orphan"}'
    turn = asyncio.ensure_future(http.post(route, json={"message": text, "conversation_id": cid}))
    await asyncio.wait_for(running.wait(), timeout=30)
    deleted = await http.delete(f"/chat/conversations/{cid}")
    assert deleted.status_code == 200, deleted.text
    release.set()
    answer = await turn
    assert answer.status_code == 200, answer.text
    result = answer.json() if route.endswith("finder") else _events(answer.text)[-2]
    assert result["conversation_deleted"] is True
    assert "message_id" not in result
    assert result["execution"]["response"]["text"] == "orphan"
    assert (await http.get(f"/chat/conversations/{cid}")).status_code == 404
    assert (await http.get("/chat/conversations")).json()["total"] == 0
    found = (await http.post("/chat/search", json={"query": "orphan"})).json()
    assert (found["total"], found["results"]) == (0, [])
    assert (await http.get("/chat/stats/tokens")).json()["messages"] == 0


async def test_a_conversation_id_that_is_not_text_is_refused_not_a_new_conversation(
    http: httpx.AsyncClient,
) -> None:
    for route, body in [
        ("/chat/message", {"content": "hi"}),
        ("/chat/indent_finder", {"message": "hi"}),
        ("/chat/indent_finder/stream", {"message": "hi"}),
    ]:
        answer = await http.post(route, json={**body, "conversation_id": 5})
        assert answer.status_code == 422, (route, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["body", "conversation_id"]
    assert (await http.get("/chat/conversations")).json()["total"] == 0
    fresh = await http.post("/chat/message", json={"content": "hi", "conversation_id": None})
    assert fresh.status_code == 201, fresh.text


@pytest.mark.parametrize("limit", [True, False, "5", 5.0, None, [5]])
async def test_a_search_limit_that_is_not_an_integer_is_422_naming_it(
    http: httpx.AsyncClient, limit: Any
) -> None:
    await http.post("/chat/message", json={"content": "needle"})
    answer = await http.post("/chat/search", json={"query": "needle", "limit": limit})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == [
        {"loc": ["body", "limit"], "msg": "Input should be a valid integer", "type": "int_type"}
    ]


async def test_a_search_limit_out_of_range_is_422_and_one_in_range_is_used(
    http: httpx.AsyncClient,
) -> None:
    for content in ("needle 1", "needle 2"):
        await http.post("/chat/message", json={"content": content})
    for limit in (0, 1001):
        answer = await http.post("/chat/search", json={"query": "needle", "limit": limit})
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"] == ["body", "limit"]
    found = (await http.post("/chat/search", json={"query": "needle", "limit": 1})).json()
    assert (len(found["results"]), found["total"]) == (1, 2)
