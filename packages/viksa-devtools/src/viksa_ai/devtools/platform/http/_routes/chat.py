"""``/chat``: conversations, the deterministic assistant, chat executions and debugging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Query
from fastapi.responses import StreamingResponse

from viksa_ai.devtools.platform.http._answers import JsonAnswer
from viksa_ai.devtools.platform.http._bodies import JsonBody, OptionalJsonBody
from viksa_ai.devtools.platform.http._deps import PageDep, PlatformDep, PrincipalDep, ProjectDep
from viksa_ai.devtools.platform.http._listing import listing
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.http._sse import sse_response
from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["router"]

router = PlatformRouter(prefix="/chat", tags=["chat"])
_DETERMINISTIC_HEADER = {"X-Viksa-Deterministic": "true"}


@router.post("/indent_finder")
async def indent_finder(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> JsonAnswer:
    """Route a chat message (deterministically): run the endpoint it names, or list them."""
    answer = await platform.chat.answer(tenant.caller, body)
    return JsonAnswer(answer, headers=_DETERMINISTIC_HEADER)


@router.post("/indent_finder/stream")
async def stream_indent_finder(
    body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> StreamingResponse:
    """The same as ``indent_finder``, as SSE events ending with ``[DONE]``."""
    return sse_response(platform.chat.stream(tenant.caller, body))


@router.post("/message", status_code=201)
async def post_message(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Store a message (a new conversation when ``conversation_id`` is absent)."""
    return platform.chat.post_message(tenant.caller, body)


@router.get("/conversations")
async def list_conversations(platform: PlatformDep, tenant: ProjectDep, page: PageDep) -> Doc:
    """One page of the project's conversations, most recent first."""
    found = platform.chat.page(tenant.project, skip=page.skip, limit=page.limit)
    return listing("conversations", found, page)


@router.get("/conversations/{conversation_id}")
async def get_conversation(conversation_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A conversation with its messages."""
    return platform.chat.get(tenant.caller, conversation_id)


@router.patch("/conversations/{conversation_id}")
async def patch_conversation(
    conversation_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change a conversation's title, metadata or other fields."""
    return platform.chat.update(tenant.caller, conversation_id, body)


@router.delete("/conversations/{conversation_id}")
async def delete_conversation(
    conversation_id: str, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Delete a conversation and its messages."""
    platform.chat.delete(tenant.caller, conversation_id)
    return {"id": conversation_id, "deleted": True}


@router.delete("/messages/{message_id}")
async def delete_message(message_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete one message."""
    platform.chat.delete_message(tenant.caller, message_id)
    return {"id": message_id, "deleted": True}


@router.post("/search")
async def search(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Messages whose content holds ``query`` (case-insensitive)."""
    return platform.chat.search(tenant.caller, body)


@router.get("/stats/tokens")
async def token_stats(
    platform: PlatformDep,
    tenant: ProjectDep,
    conversation_id: Annotated[str | None, Query()] = None,
) -> JsonAnswer:
    """Token counts of stored messages (words stand in for tokens: no model runs here)."""
    stats = platform.chat.token_stats(tenant.project, conversation_id)
    return JsonAnswer(stats, headers=_DETERMINISTIC_HEADER)


@router.post("/generate/agent")
async def generate_agent(body: JsonBody, platform: PlatformDep, _: PrincipalDep) -> JsonAnswer:
    """An AgentGenerationResponse built from a fixed template (no model runs here)."""
    return JsonAnswer(platform.chat.generate_agent(body), headers=_DETERMINISTIC_HEADER)


@router.post("/fix/agent")
async def fix_agent(body: JsonBody, platform: PlatformDep, _: PrincipalDep) -> JsonAnswer:
    """The validator's issues with a manifest (sent whole, or under ``agent``/``manifest``)."""
    return JsonAnswer(await platform.chat.fix_agent(body), headers=_DETERMINISTIC_HEADER)


@router.post("/execution/{conversation_id}/cancel")
async def cancel_execution(conversation_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Cancel the conversation's execution that waits for approval."""
    return platform.chat_runs.cancel(tenant.caller, conversation_id)


@router.get("/execution/{conversation_id}/active")
async def active_execution(conversation_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """The conversation's execution that has not ended yet, if any."""
    return platform.chat_runs.active(tenant.caller, conversation_id)


@router.get("/execution/{conversation_id}/stream")
async def stream_execution(
    conversation_id: str, platform: PlatformDep, tenant: ProjectDep
) -> StreamingResponse:
    """The events of the conversation's latest execution, as SSE."""
    found = platform.chat_runs.latest_events(tenant.caller, conversation_id)

    async def events() -> AsyncIterator[Doc]:
        for event in found:
            yield event

    return sse_response(events())


@router.get("/executions/{execution_id}/events", response_model=Doc)
async def execution_events(
    execution_id: str, platform: PlatformDep, tenant: ProjectDep
) -> JsonAnswer:
    """What happened to an execution, in order."""
    return JsonAnswer(platform.chat_runs.events(tenant.caller, execution_id))


@router.post("/executions/{execution_id}/debug/start", response_model=Doc)
async def debug_start(
    execution_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> JsonAnswer:
    """Open a debug session on an execution (``breakpoints`` may be given)."""
    return JsonAnswer(platform.chat_runs.debug(tenant.caller, execution_id, "start", body or {}))


@router.post("/executions/{execution_id}/debug/resume", response_model=Doc)
async def debug_resume(
    execution_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> JsonAnswer:
    """Resume a paused debug session."""
    return JsonAnswer(platform.chat_runs.debug(tenant.caller, execution_id, "resume", body or {}))


@router.post("/executions/{execution_id}/debug/inspect", response_model=Doc)
async def debug_inspect(
    execution_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> JsonAnswer:
    """The execution and its debug session as they are."""
    return JsonAnswer(platform.chat_runs.debug(tenant.caller, execution_id, "inspect", body or {}))


@router.post("/executions/{execution_id}/debug/stop", response_model=Doc)
async def debug_stop(
    execution_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> JsonAnswer:
    """Close the debug session."""
    return JsonAnswer(platform.chat_runs.debug(tenant.caller, execution_id, "stop", body or {}))
