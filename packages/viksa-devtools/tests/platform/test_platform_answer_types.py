"""The platform answers exactly the types the client declares (issue 14's contract).

``run_scenario`` drives the async client through every operation against the platform
in-process, with real ids (an agent is created, built and deployed first, so executions,
approvals, triggers, workflows and listings have something to act on), and records each
answer beside the bound method that produced it. Each answer is then validated, with
pydantic's ``TypeAdapter`` in strict mode, against the return type the method declares:
read from its annotations with ``typing.get_type_hints``, so the test follows the
signatures and cannot drift from them. Unknown keys pass (TypedDicts ignore them).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, get_args, get_type_hints

import httpx
import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

import viksa_ai.client
from viksa_ai.client import ViksaClient
from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.models import agent as agent_models
from viksa_ai.models import answers, auth, executor


@dataclass
class Answer:
    """What one call answered: a value, or the items of an iterator or stream."""

    method: Callable[..., Any]
    value: Any
    iterated: bool


@dataclass
class Recorder:
    """Calls client methods and keeps what each answered."""

    answers: list[Answer] = field(default_factory=list)

    async def call(self, method: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """Await ``method(*args, **kwargs)``, record and return its answer."""
        value = await method(*args, **kwargs)
        self.answers.append(Answer(method, value, iterated=False))
        return value

    async def items(self, method: Callable[..., AsyncIterable[Any]], *args: Any, **kw: Any) -> Any:
        """Iterate ``method(*args, **kw)`` to its end; record and return its items."""
        items = [item async for item in method(*args, **kw)]
        assert items, f"{method.__qualname__} yielded nothing: the check would be empty"
        self.answers.append(Answer(method, items, iterated=True))
        return items


async def _settled(client: ViksaClient, execution_id: str) -> None:
    for _ in range(300):
        execution = await client.workflow.executions.get(execution_id)
        if execution["status"] not in ("created", "running"):
            return
        await asyncio.sleep(0.02)


async def run_scenario(local: LocalPlatform, make_manifest: Callable[..., Any]) -> list[Answer]:
    """Call every operation of the async client once (most with real ids)."""
    r = Recorder()
    async with local.async_client() as c:
        await _auth(r, local)
        agent = await _builder(r, c, make_manifest)
        await _chat(r, c, agent, make_manifest)
        await _triggers(r, c, local, agent)
        await _workflows(r, c, agent)
        await _scheduler(r, c, agent)
        await _marketplace(r, c, agent)
        await _cleanup(r, c, agent)
    return r.answers


async def _auth(r: Recorder, local: LocalPlatform) -> None:
    creds = local.credentials
    async with local.async_client(access_token="x.y.z") as c:
        tokens = await r.call(c.auth.login, creds.email, creds.password)
        assert tokens.org_id == creds.org_id
        await r.call(c.auth.refresh)
        await r.call(c.auth.me)
        await r.call(c.auth.switch_org, creds.org_id)
        await r.call(c.auth.switch_project, creds.project_id)
        await r.call(c.auth.usage)
        sessions = await r.call(c.auth.list_sessions)
        key = await r.call(c.auth.create_api_key, "ci", "for CI")
        await r.call(c.auth.validate_api_key, key["key"])
        await r.call(c.auth.list_api_keys)
        await r.items(c.auth.iter_api_keys)
        await r.call(c.auth.revoke_api_key, key["id"])
        await r.call(c.auth.delete_api_key, key["id"])
        await r.call(c.auth.create_worker_key, "worker")
        await r.call(c.auth.list_worker_keys)
        await r.items(c.auth.iter_worker_keys)
        await _tenancy(r, c)
        other = await c.auth.login(creds.email, creds.password)
        assert other.access_token
        listed = await c.auth.list_sessions()
        mine = {s["id"] for s in sessions["sessions"]}
        newer = [s["id"] for s in listed["sessions"] if s["id"] not in mine and not s["current"]]
        await r.call(c.auth.revoke_session, (newer or [listed["sessions"][0]["id"]])[0])
        await r.call(c.auth.revoke_all_sessions)
        await r.call(c.auth.logout)
        await c.auth.login(creds.email, creds.password)
        await r.call(c.auth.logout_all)


async def _tenancy(r: Recorder, c: ViksaClient) -> None:
    await r.call(c.auth.orgs.list)
    org = await r.call(c.auth.orgs.create, {"name": "Second org"})
    await r.call(c.auth.orgs.get, org["id"])
    await r.call(c.auth.orgs.update, org["id"], {"name": "Renamed"})
    project = await r.call(c.auth.projects.create, {"org_id": org["id"], "name": "P"})
    await r.call(c.auth.projects.list, org["id"])
    await r.call(c.auth.projects.get, project["id"])
    await r.call(c.auth.projects.update, project["id"], {"name": "Q"})
    await r.call(c.auth.projects.delete, project["id"])
    await r.call(c.auth.orgs.delete, org["id"])


async def _builder(
    r: Recorder, c: ViksaClient, make_manifest: Callable[..., Any]
) -> dict[str, Any]:
    b = c.builder
    await r.call(b.secrets.vault_status)
    secret = await r.call(b.secrets.create_secret, "svc", "s3cr3t", "the key")
    await r.call(b.secrets.list_secrets)
    await r.items(b.secrets.iter_all)
    await r.call(b.secrets.get_secret, secret["id"])
    await r.call(b.secrets.update_secret, secret["id"], {"description": "new"})
    auth = {"svc": {"api_key": {"secret_id": secret["id"]}}}
    agent: dict[str, Any] = await r.call(b.agents.create, make_manifest(auth_methods=auth))
    await r.call(b.secrets.secret_usage, secret["id"])
    await r.call(b.agents.list, limit=10)
    await r.items(b.agents.iter_all)
    await r.call(b.agents.get, agent["id"])
    await r.call(b.agents.update, agent["id"], {"agent_description": "Updated"})
    await r.call(b.agents.set_status, agent["id"], enabled=True)
    await r.call(b.agents.set_endpoint_status, agent["id"], "crash", enabled=False)
    revisions = await r.call(b.agents.revisions, agent["id"])
    first = revisions["revisions"][0] if isinstance(revisions, dict) else revisions[0]
    await r.call(b.agents.revision, agent["id"], first["revision"])
    await r.call(b.agents.share, agent["id"], {"email": "friend@example.com"})
    await r.call(b.deploy.build, agent["id"])
    await r.call(b.deploy.deploy, agent["id"])
    await r.call(b.deploy.reconcile, agent["id"])
    server = await r.call(b.mcp.create, {"name": "files", "agent_id": agent["id"]})
    await r.call(b.mcp.list)
    await r.items(b.mcp.iter_all)
    await r.call(b.mcp.get, server["id"])
    await r.call(b.mcp.update, server["id"], {"description": "d"})
    await r.call(b.mcp.start, server["id"])
    await r.call(b.mcp.stop, server["id"])
    await r.call(b.mcp.delete, server["id"])
    await r.call(b.mappings.get, agent["id"])
    await r.call(b.mappings.get_many, [agent["id"]])
    return agent


async def _chat(
    r: Recorder, c: ViksaClient, agent: dict[str, Any], make_manifest: Callable[..., Any]
) -> None:
    ch = c.chat
    routed = await r.call(ch.indent_finder, 'echo.main.echo {"text": "hi"}')
    conversation = routed["conversation_id"]
    await r.items(ch.stream_indent_finder, "hello", conversation_id=conversation)
    message = await r.call(ch.message, {"conversation_id": conversation, "content": "alpha"})
    await r.call(ch.list_conversations)
    await r.items(ch.iter_conversations)
    await r.call(ch.get_conversation, conversation)
    await r.call(ch.patch_conversation, conversation, {"title": "t"})
    await r.call(ch.search, {"query": "alpha"})
    await r.call(ch.token_stats)
    await r.call(ch.delete_message, message["id"])
    await r.call(ch.generate_agent, "an agent that echoes")
    await r.call(ch.fix_agent, {"agent": make_manifest()})
    guarded = await ch.indent_finder('echo.main.guarded {"text": "x"}')
    held = guarded["conversation_id"]
    await r.call(ch.active_execution, held)
    await r.items(ch.stream_execution, held)
    await r.call(ch.approvals.list, status="pending")
    approvals = (await ch.approvals.list(status="pending"))["approvals"]
    await r.call(ch.approvals.get, approvals[0]["id"])
    await r.call(ch.cancel_execution, held)
    execution = routed["execution"]["execution_id"]
    await r.call(ch.execution_events, execution)
    await r.call(ch.debug_start, execution, {"breakpoints": ["s0"]})
    await r.call(ch.debug_inspect, execution)
    await r.call(ch.debug_resume, execution)
    await r.call(ch.debug_stop, execution)
    from viksa_ai.models.executor import AgentType, EndpointExecutionRequest

    request = EndpointExecutionRequest(
        agent_id=agent["id"],
        agent_type=AgentType.CLOUD,
        endpoint="echo.main.echo",
        inputs={"text": "p"},
    )
    await r.call(c.pulse.execute, request)
    target = {"agent_id": agent["id"], "agent_type": "cloud", "endpoint": "echo.main.echo"}
    await r.call(c.pulse.invoke, {**target, "inputs": {"text": "later"}})
    await r.call(c.pulse.list_executions, agent_id=agent["id"])
    await r.items(c.pulse.iter_executions, limit=2)
    guarded_target = {**target, "endpoint": "echo.main.guarded", "inputs": {"text": "g"}}
    pending = await c.pulse.execute(guarded_target)
    assert pending.model_extra is not None
    await r.call(ch.approvals.decide, pending.model_extra["approval_id"], {"decision": "approve"})
    await r.call(ch.delete_conversation, conversation)


async def _triggers(
    r: Recorder, c: ViksaClient, local: LocalPlatform, agent: dict[str, Any]
) -> None:
    t = c.chat.triggers
    trigger = await r.call(t.create, {"agent_id": agent["id"], "endpoint": "echo.main.echo"})
    await r.call(t.list)
    await r.items(t.iter_all)
    await r.call(t.get, trigger["id"])
    await r.call(t.update, trigger["id"], {"name": "renamed"})
    await r.items(t.test, trigger["id"], {"text": "t"})
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=local.app), timeout=60)
    async with ViksaClient.webhook(
        trigger["id"],
        webhook_token=trigger["webhook_token"],
        base_url=local.base_url,
        http_client=http,
    ) as hook:
        await r.call(hook.invoke, {"text": "w"})
        await r.items(hook.stream, {"text": "s"})
        await r.call(hook.health)
    await http.aclose()
    await r.call(t.list_executions, trigger["id"])
    await r.call(t.delete, trigger["id"])


async def _workflow(client: ViksaClient, agent: dict[str, Any], endpoint: str) -> str:
    step = {"id": "s0", "agent_id": agent["id"], "endpoint": endpoint, "inputs": {"text": "w"}}
    made = await client.request(
        "POST", "/workflow", "/create", json={"name": "wf", "steps": [step]}
    )
    assert isinstance(made, dict)
    workflow_id = made["id"]
    assert isinstance(workflow_id, str)
    return workflow_id


async def _workflows(r: Recorder, c: ViksaClient, agent: dict[str, Any]) -> None:
    w = c.workflow
    wid = await _workflow(c, agent, "echo.main.echo")
    await r.call(w.get, wid)
    await r.call(w.patch, wid, {"name": "wf2"})
    await r.call(w.list)
    await r.items(w.iter_all)
    started = await r.call(w.start, wid, "sdk")
    await _settled(c, started["id"])
    done = await r.call(w.execute, wid, {"trigger_source": "sdk"})
    await r.call(w.related, wid)
    clone = await r.call(w.clone, {"workflow_id": wid})
    rerun = await r.call(w.rerun, {"execution_id": done["id"]})
    await _settled(c, rerun["id"])
    e = w.executions
    created = await r.call(e.create, wid)
    await r.call(e.get, created["id"])
    await r.call(e.list)
    await r.items(e.iter_all)
    await r.call(e.list_for_workflow, wid)
    await r.call(e.patch_tasks, created["id"], {"tasks": [{"step_id": "s0", "inputs": {}}]})
    await r.call(e.cancel, created["id"])
    await r.call(e.retry, created["id"])
    await _settled(c, created["id"])
    await r.call(e.delete, created["id"])
    # A guarded step waits for a person: the execution stays running until stopped.
    held = await e.create(await _workflow(c, agent, "echo.main.guarded"))
    await r.call(e.start, held["id"])
    await r.call(e.stop, held["id"])
    await r.call(w.delete, clone["id"])


async def _scheduler(r: Recorder, c: ViksaClient, agent: dict[str, Any]) -> None:
    s = c.scheduler
    target = {"agent_id": agent["id"], "endpoint": "echo.main.echo", "interval_seconds": 60}
    schedule = await r.call(s.create, {**target, "inputs": {"text": "s"}})
    await r.call(s.list)
    await r.items(s.iter_all)
    await r.call(s.get, schedule["id"])
    await r.call(s.update, schedule["id"], {"interval_seconds": 120})
    await r.call(s.pause, schedule["id"])
    await r.call(s.resume, schedule["id"])
    await r.call(s.run_now, schedule["id"])
    await r.call(s.delete, schedule["id"])


async def _marketplace(r: Recorder, c: ViksaClient, agent: dict[str, Any]) -> None:
    m = c.marketplace
    await r.call(m.publishers.create_profile, {"display_name": "Me"})
    await r.call(m.publishers.me)
    await r.call(m.publishers.update_profile, {"bio": "x"})
    item = await r.call(m.listings.create, {"agent_id": agent["id"], "category": "data"})
    await r.call(m.listings.publish, item["id"])
    await r.call(m.listings.search, q="echo")
    await r.call(m.listings.list)
    await r.items(m.listings.iter_all)
    await r.call(m.listings.get, item["id"])
    await r.call(m.listings.install, item["id"], {"alias": "copy"})
    team = await r.call(m.workforce.publish, {"name": "team", "agent_ids": [agent["id"]]})
    await r.call(m.workforce.search, q="team")
    await r.call(m.workforce.get, team["id"])
    await r.call(m.workforce.install, team["id"], {"alias_suffix": "_2"})
    await r.call(m.categories)
    await r.call(m.installations)


async def _cleanup(r: Recorder, c: ViksaClient, agent: dict[str, Any]) -> None:
    secrets = await c.builder.secrets.list_secrets()
    await r.call(c.builder.agents.delete, agent["id"])
    await r.call(c.builder.secrets.delete_secret, secrets["secrets"][0]["id"], force=True)


# The names the resource modules import for type checkers only, for get_type_hints.
_HINT_NAMES: dict[str, Any] = {
    name: getattr(module, name)
    for module in (answers, auth, agent_models, executor, viksa_ai.client)
    for name in module.__all__
}
_NOT_OPERATIONS = frozenset({"aclose", "close", "request"})


def declared_answer(method: Callable[..., Any]) -> Any:
    """The answer type ``method`` declares (its return annotation, resolved)."""
    return get_type_hints(method, localns=_HINT_NAMES)["return"]


def _operations(root: object, depth: int = 0) -> set[str]:
    """The qualified names of every operation under a client resource tree."""
    found: set[str] = set()
    for name in dir(root):
        value = getattr(root, name)
        if name.startswith("_") or name in _NOT_OPERATIONS or name.endswith("_sync"):
            continue
        if callable(value) and hasattr(value, "__func__"):
            found.add(value.__qualname__)
        elif depth < 2 and type(value).__module__.startswith("viksa_ai.client._async"):
            found |= _operations(value, depth + 1)
    return found


def _check(answer: Answer) -> None:
    declared = declared_answer(answer.method)
    if answer.iterated:  # AsyncIterator[X] or AsyncEventStream[X]: each item is an X
        (item,) = get_args(declared)
        each: TypeAdapter[Any] = TypeAdapter(item)
        for value in answer.value:
            each.validate_python(value, strict=True)
        assert all(type(value) is dict for value in answer.value)
        return
    if isinstance(declared, type) and issubclass(declared, BaseModel):
        assert isinstance(answer.value, declared)
        return
    TypeAdapter(declared).validate_python(answer.value, strict=True)
    # Plain JSON at run time, as 0.2 answered: nothing converted the decoded value.
    assert type(answer.value) in (dict, list), type(answer.value)


async def test_every_answer_of_the_platform_has_the_type_its_method_declares(
    viksa_platform: LocalPlatform, manifest: Callable[..., Any]
) -> None:
    recorded = await run_scenario(viksa_platform, manifest)
    wrong: dict[str, str] = {}
    for answer in recorded:
        try:
            _check(answer)
        except (ValidationError, AssertionError) as exc:
            wrong[answer.method.__qualname__] = str(exc)
    assert not wrong, "\n".join(f"{k}: {v}" for k, v in wrong.items())


async def test_the_scenario_calls_every_operation_of_the_client(
    viksa_platform: LocalPlatform, manifest: Callable[..., Any]
) -> None:
    recorded = {
        answer.method.__qualname__ for answer in await run_scenario(viksa_platform, manifest)
    }
    async with viksa_platform.async_client() as client:
        resources = ("auth", "builder", "chat", "pulse", "workflow", "scheduler", "marketplace")
        every = {op for name in resources for op in _operations(getattr(client, name), 1)}
        webhook = ViksaClient.webhook("trg_1", base_url=viksa_platform.base_url)
        every |= _operations(webhook)
        await webhook.aclose()
    assert len(every) > 140
    assert sorted(every - recorded) == []


def test_a_wrong_answer_fails_the_check() -> None:
    async def get(agent_id: str) -> answers.AgentDocument:
        raise NotImplementedError

    with pytest.raises(ValidationError):
        _check(Answer(get, {"id": 1, "agent_name": "a", "agent_alias": "a"}, iterated=False))
    _check(Answer(get, {"id": "a", "agent_name": "a", "agent_alias": "a", "new": 1}, False))


@pytest.mark.parametrize("name", sorted(_HINT_NAMES.keys() & set(answers.__all__)))
def test_every_answer_type_is_a_valid_pydantic_type(name: str) -> None:
    TypeAdapter(_HINT_NAMES[name])
