"""``/chat``: conversations, the deterministic assistant, chat executions and debugging."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from viksa_ai.devtools._json import dumps_json
from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform.http._answers import JsonAnswer
from viksa_ai.devtools.platform.http._bodies import JsonBody, OptionalJsonBody
from viksa_ai.devtools.platform.http._deps import PageDep, PlatformDep, ProjectDep, Tenant, owned
from viksa_ai.devtools.platform.http._listing import listing
from viksa_ai.devtools.platform.http._sse import sse_response
from viksa_ai.devtools.platform.http._strict_route import StrictJsonRoute
from viksa_ai.devtools.platform.services._assistant import (
    DETERMINISTIC_NOTE,
    generated_agent,
    list_runnable,
    parse_request,
    words,
)
from viksa_ai.devtools.platform.services._clock import now_iso
from viksa_ai.devtools.platform.services._engine import execution_view
from viksa_ai.devtools.platform.services._errors import (
    DomainError,
    conflict,
    detail_item,
    not_found,
    unprocessable,
)
from viksa_ai.devtools.platform.services._security import new_id
from viksa_ai.devtools.platform.services._validation import manifest_issues
from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["router"]

router = APIRouter(route_class=StrictJsonRoute, prefix="/chat", tags=["chat"])
_DETERMINISTIC_HEADER = {"X-Viksa-Deterministic": "true"}


def _text(body: dict[str, Any], *fields: str) -> str:
    for field in fields:
        if isinstance(body.get(field), str) and body[field].strip():
            return str(body[field])
    raise unprocessable([detail_item(["body", fields[0]], "Field required", "missing")])


def _conversation(platform: Platform, tenant: Tenant, body: dict[str, Any], first: str) -> Doc:
    conversation_id = body.get("conversation_id")
    if isinstance(conversation_id, str):
        return owned(platform, "conversation", "Conversation", conversation_id, tenant)
    now = now_iso()
    conversation = {
        "id": new_id("cnv"),
        "title": first[:80],
        "workforce_id": body.get("workforce_id"),
        "metadata": body.get("metadata") or {},
        "created_at": now,
        "updated_at": now,
        "message_count": 0,
    }
    return platform.store.insert("conversation", conversation, scope=tenant.project)


def _add_message(
    platform: Platform, tenant: Tenant, conversation: Doc, role: str, content: str, **extra: Any
) -> Doc:
    message = {
        "id": new_id("msg"),
        "conversation_id": conversation["id"],
        "role": role,
        "content": content,
        "created_at": now_iso(),
        "tokens": words(content),
        **extra,
    }
    with platform.store.transaction():
        platform.store.insert("message", message, scope=tenant.project)
        conversation["message_count"] = conversation.get("message_count", 0) + 1
        conversation["updated_at"] = message["created_at"]
        platform.store.save("conversation", conversation)
    return message


async def _converse(platform: Platform, tenant: Tenant, body: dict[str, Any]) -> AsyncIterator[Doc]:
    """The assistant's turn as events; the last one (``type: result``) is the answer."""
    text = _text(body, "message")
    conversation = _conversation(platform, tenant, body, text)
    user_message = _add_message(platform, tenant, conversation, "user", text)
    yield {"type": "conversation", "conversation_id": conversation["id"], "deterministic": True}
    parsed = parse_request(text)
    execution: Doc | None = None
    runnable = list_runnable(platform.store, tenant.project)
    if parsed.endpoint is None or parsed.error is not None:
        intent = "list_endpoints"
        listed = "\n".join(f"- {e['endpoint']}: {e['description']}" for e in runnable)
        reply = (parsed.error + "\n" if parsed.error else "") + (
            "I can run these endpoints; name one followed by JSON inputs, e.g. "
            f"`{runnable[0]['endpoint']} {{...}}`:\n{listed}"
            if runnable
            else "No agent is deployed in this project yet: create, build and deploy one."
        )
    else:
        intent = "execute_endpoint"
        found = next((e for e in runnable if e["endpoint"] == parsed.endpoint), None)
        if found is None:
            reply = f"No deployed, enabled endpoint is called {parsed.endpoint}."
        else:
            yield {"type": "intent", "intent": intent, "endpoint": parsed.endpoint}
            try:
                target = platform.engine.target(tenant.project, found["agent_id"], parsed.endpoint)
                platform.engine.check_inputs(target, parsed.inputs, None)
            except DomainError as exc:
                reply = f"Cannot run {parsed.endpoint}: {json.dumps(exc.detail)}"
            else:
                record = platform.engine.new_execution(
                    target,
                    inputs=parsed.inputs,
                    envelope=None,
                    timeout=None,
                    source="chat",
                    context={"conversation_id": conversation["id"]},
                )
                yield {"type": "execution.started", "execution_id": record["id"]}
                execution = execution_view(await platform.engine.execute(record))
                yield {"type": "execution.finished", **execution}
                reply = f"{parsed.endpoint} {execution['status']}: " + dumps_json(
                    execution["response"] if execution["error"] is None else execution["error"]
                )
    for word in reply.split(" "):
        yield {"type": "message.delta", "content": word + " "}
    answer = _add_message(
        platform, tenant, conversation, "assistant", reply, intent=intent, deterministic=True
    )
    yield {
        "type": "result",
        "conversation_id": conversation["id"],
        "user_message_id": user_message["id"],
        "message_id": answer["id"],
        "intent": intent,
        "response": reply,
        "execution": execution,
        "endpoints": runnable if intent == "list_endpoints" else None,
        "deterministic": True,
        "note": DETERMINISTIC_NOTE,
    }


@router.post("/indent_finder")
async def indent_finder(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> JsonAnswer:
    """Route a chat message (deterministically): run the endpoint it names, or list them."""
    answer: Doc = {}
    async for event in _converse(platform, tenant, body):
        answer = event
    answer.pop("type", None)
    return JsonAnswer(answer, headers=_DETERMINISTIC_HEADER)


@router.post("/indent_finder/stream")
async def stream_indent_finder(
    body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> StreamingResponse:
    """The same as ``indent_finder``, as SSE events ending with ``[DONE]``."""
    _text(body, "message")  # fail with 422 before the stream starts
    return sse_response(_converse(platform, tenant, body))


@router.post("/message", status_code=201)
async def post_message(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Store a message (a new conversation when ``conversation_id`` is absent)."""
    content = _text(body, "content", "message")
    conversation = _conversation(platform, tenant, body, content)
    role = body.get("role", "user")
    if role not in ("user", "assistant", "system", "tool"):
        raise unprocessable([detail_item(["body", "role"], "unknown role", "enum")])
    return _add_message(platform, tenant, conversation, str(role), content)


@router.get("/conversations")
async def list_conversations(platform: PlatformDep, tenant: ProjectDep, page: PageDep) -> Doc:
    """One page of the project's conversations, most recent first."""
    found = platform.store.query(
        "conversation", scope=tenant.project, skip=page.skip, limit=page.limit, newest_first=True
    )
    return listing("conversations", found, page)


@router.get("/conversations/{conversation_id}")
async def get_conversation(conversation_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A conversation with its messages."""
    conversation = owned(platform, "conversation", "Conversation", conversation_id, tenant)
    messages, _ = platform.store.query("message", where={"conversation_id": conversation_id})
    return {**conversation, "messages": messages}


@router.patch("/conversations/{conversation_id}")
async def patch_conversation(
    conversation_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change a conversation's title, metadata or other fields."""
    conversation = owned(platform, "conversation", "Conversation", conversation_id, tenant)
    fixed = {"id", "created_at", "message_count"}
    conversation.update({k: v for k, v in body.items() if k not in fixed})
    conversation["updated_at"] = now_iso()
    return platform.store.save("conversation", conversation)


@router.delete("/conversations/{conversation_id}")
async def delete_conversation(
    conversation_id: str, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Delete a conversation and its messages."""
    owned(platform, "conversation", "Conversation", conversation_id, tenant)
    with platform.store.transaction():
        for message in platform.store.query("message", where={"conversation_id": conversation_id})[
            0
        ]:
            platform.store.delete("message", message["id"])
        platform.store.delete("conversation", conversation_id)
    return {"id": conversation_id, "deleted": True}


@router.delete("/messages/{message_id}")
async def delete_message(message_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete one message."""
    message = owned(platform, "message", "Message", message_id, tenant)
    with platform.store.transaction():
        platform.store.delete("message", message_id)
        conversation = platform.store.get("conversation", message["conversation_id"])
        if conversation is not None:
            conversation["message_count"] = max(0, conversation.get("message_count", 1) - 1)
            platform.store.save("conversation", conversation)
    return {"id": message_id, "deleted": True}


@router.post("/search")
async def search(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Messages whose content holds ``query`` (case-insensitive)."""
    query = _text(body, "query", "q")
    limit = body.get("limit", 50)
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise unprocessable([detail_item(["body", "limit"], "limit is 1..1000", "int_range")])
    found, total = platform.store.query(
        "message", scope=tenant.project, search=query, search_fields=("content",), limit=limit
    )
    return {"query": query, "results": found, "total": total}


@router.get("/stats/tokens")
async def token_stats(
    platform: PlatformDep,
    tenant: ProjectDep,
    conversation_id: Annotated[str | None, Query()] = None,
) -> JsonAnswer:
    """Token counts of stored messages (words stand in for tokens: no model runs here)."""
    where = None if conversation_id is None else {"conversation_id": conversation_id}
    messages, count = platform.store.query("message", scope=tenant.project, where=where)
    prompt = sum(m.get("tokens", 0) for m in messages if m["role"] == "user")
    completion = sum(m.get("tokens", 0) for m in messages if m["role"] != "user")
    stats = {
        "messages": count,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "counting": "whitespace-separated words",
        "deterministic": True,
    }
    return JsonAnswer(stats, headers=_DETERMINISTIC_HEADER)


@router.post("/generate/agent")
async def generate_agent(body: JsonBody) -> JsonAnswer:
    """An AgentGenerationResponse built from a fixed template (no model runs here)."""
    prompt = _text(body, "prompt")
    return JsonAnswer(generated_agent(prompt), headers=_DETERMINISTIC_HEADER)


@router.post("/fix/agent")
async def fix_agent(body: JsonBody, platform: PlatformDep) -> JsonAnswer:
    """The validator's issues with a manifest (sent whole, or under ``agent``/``manifest``)."""
    manifest = body.get("agent") or body.get("manifest") or body
    if not isinstance(manifest, dict):
        raise unprocessable(
            [detail_item(["body", "agent"], "send the manifest object", "dict_type")]
        )
    issues = await manifest_issues(manifest, time_limit=platform.config.validation_time_limit)
    answer = {
        "fixed": False,
        "valid": not issues,
        "issues": issues,
        "agent": manifest,
        "deterministic": True,
        "note": DETERMINISTIC_NOTE + " The manifest is returned unchanged with its issues.",
    }
    return JsonAnswer(answer, headers=_DETERMINISTIC_HEADER)


def _latest_execution(platform: Platform, tenant: Tenant, conversation_id: str) -> Doc | None:
    owned(platform, "conversation", "Conversation", conversation_id, tenant)
    found, _ = platform.store.query(
        "execution", where={"conversation_id": conversation_id}, limit=1, newest_first=True
    )
    return found[0] if found else None


@router.post("/execution/{conversation_id}/cancel")
async def cancel_execution(conversation_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Cancel the conversation's execution that waits for approval."""
    record = _latest_execution(platform, tenant, conversation_id)
    if record is None or platform.engine.is_final(record):
        raise conflict("This conversation has no active execution.", code="no_active_execution")
    if record["status"] != "awaiting_approval":
        raise conflict(
            "The execution is already running and cannot be stopped midway.", code="running"
        )
    record.update(status="cancelled", error="Cancelled from the chat.")
    approval = platform.store.get("approval", record["approval_id"])
    if approval is not None and approval["status"] == "pending":
        approval.update(status="cancelled", decided_at=now_iso())
        platform.store.save("approval", approval)
    return execution_view(platform.engine.finish(record))


@router.get("/execution/{conversation_id}/active")
async def active_execution(conversation_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """The conversation's execution that has not ended yet, if any."""
    record = _latest_execution(platform, tenant, conversation_id)
    active = record is not None and not platform.engine.is_final(record)
    return {
        "conversation_id": conversation_id,
        "active": active,
        "execution": execution_view(record) if record is not None and active else None,
    }


def _events(platform: Platform, record: Doc) -> list[Doc]:
    events = [
        {"type": "execution.created", "execution_id": record["id"], "at": record["created_at"]}
    ]
    if record.get("approval_id"):
        approval = platform.store.get("approval", record["approval_id"]) or {}
        events.append({"type": "approval.requested", "approval_id": record["approval_id"]})
        if approval.get("decided_at"):
            events.append({"type": f"approval.{approval['status']}", "at": approval["decided_at"]})
    if record.get("finished_at"):
        events.append(
            {
                "type": f"execution.{record['status']}",
                "at": record["finished_at"],
                **execution_view(record),
            }
        )
    return events


@router.get("/execution/{conversation_id}/stream")
async def stream_execution(
    conversation_id: str, platform: PlatformDep, tenant: ProjectDep
) -> StreamingResponse:
    """The events of the conversation's latest execution, as SSE."""
    record = _latest_execution(platform, tenant, conversation_id)
    if record is None:
        raise not_found("Execution of conversation", conversation_id)

    async def events() -> AsyncIterator[Doc]:
        for event in _events(platform, record):
            yield event

    return sse_response(events())


@router.get("/executions/{execution_id}/events")
async def execution_events(execution_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """What happened to an execution, in order."""
    record = owned(platform, "execution", "Execution", execution_id, tenant)
    events = _events(platform, record)
    return {"execution_id": execution_id, "events": events, "total": len(events)}


_DEBUG_NEXT = {"start": ("paused",), "resume": ("running",), "inspect": (), "stop": ("stopped",)}


async def _debug(
    platform: Platform, tenant: Tenant, execution_id: str, verb: str, body: Doc
) -> Doc:
    record = owned(platform, "execution", "Execution", execution_id, tenant)
    session = platform.store.get("debug_session", execution_id)
    if verb == "start":
        if session is not None and session["state"] != "stopped":
            raise conflict("A debug session is already open for this execution.", code="debugging")
        session = {
            "id": execution_id,
            "state": "paused",
            "breakpoints": body.get("breakpoints", []),
            "started_at": now_iso(),
        }
        platform.store.delete("debug_session", execution_id)
        platform.store.insert("debug_session", session, scope=tenant.project)
    elif session is None or session["state"] == "stopped":
        raise conflict("No debug session is open: call debug_start first.", code="not_debugging")
    elif verb != "inspect":
        session["state"] = _DEBUG_NEXT[verb][0]
        platform.store.save("debug_session", session)
    return {
        "execution_id": execution_id,
        "debug": session,
        "execution": {**execution_view(record), "inputs": record["inputs"]},
        "note": "The local platform records debug state; executions are not paused midway.",
    }


@router.post("/executions/{execution_id}/debug/start")
async def debug_start(
    execution_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> Doc:
    """Open a debug session on an execution (``breakpoints`` may be given)."""
    return await _debug(platform, tenant, execution_id, "start", body or {})


@router.post("/executions/{execution_id}/debug/resume")
async def debug_resume(
    execution_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> Doc:
    """Resume a paused debug session."""
    return await _debug(platform, tenant, execution_id, "resume", body or {})


@router.post("/executions/{execution_id}/debug/inspect")
async def debug_inspect(
    execution_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> Doc:
    """The execution and its debug session as they are."""
    return await _debug(platform, tenant, execution_id, "inspect", body or {})


@router.post("/executions/{execution_id}/debug/stop")
async def debug_stop(
    execution_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> Doc:
    """Close the debug session."""
    return await _debug(platform, tenant, execution_id, "stop", body or {})
