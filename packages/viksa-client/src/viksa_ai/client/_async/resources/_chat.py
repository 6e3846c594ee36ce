"""``client.chat``: conversations, streams, executions, approvals and triggers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from viksa_ai.client._async._stream import AsyncEventStream
from viksa_ai.client._async.resources._base import AsyncResource
from viksa_ai.client._call import CHAT, Call, body_of, json_call, object_call, query_of
from viksa_ai.client._decode import agent_generation

if TYPE_CHECKING:
    from viksa_ai.client._async._client import ViksaClient
    from viksa_ai.client._config import RequestOptions
    from viksa_ai.models.agent import AgentGenerationResponse
    from viksa_ai.models.answers import (
        ActiveExecution,
        Approval,
        ApprovalPage,
        ChatReply,
        Conversation,
        ConversationPage,
        CreatedTrigger,
        DebugSession,
        Deleted,
        ExecutionEvents,
        ExecutionRecord,
        ExecutionRecordPage,
        FixedAgent,
        Message,
        MessageSearch,
        StreamEvent,
        TokenStats,
        Trigger,
        TriggerPage,
    )

__all__ = ["AsyncApprovals", "AsyncChat", "AsyncTriggers"]


def _conversations_page(skip: int, limit: int) -> Call[ConversationPage]:
    return json_call("GET", CHAT, "/conversations", query=query_of(skip=skip, limit=limit))


def _indent_body(
    message: str,
    conversation_id: str | None,
    workforce_id: str | None,
    metadata: Mapping[str, object] | None,
) -> dict[str, Any]:
    return body_of(
        message=message,
        conversation_id=conversation_id,
        workforce_id=workforce_id,
        metadata=metadata,
    )


class AsyncChat(AsyncResource):
    """The chat service (``/chat``); ``approvals`` and ``triggers`` hang off it."""

    __slots__ = ("approvals", "triggers")

    def __init__(self, client: ViksaClient) -> None:
        super().__init__(client)
        self.approvals = AsyncApprovals(client)
        self.triggers = AsyncTriggers(client)

    async def indent_finder(
        self,
        message: str,
        conversation_id: str | None = None,
        workforce_id: str | None = None,
        metadata: Mapping[str, object] | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> ChatReply:
        """Send a chat message through intent routing; answers the reply."""
        body = _indent_body(message, conversation_id, workforce_id, metadata)
        call: Call[ChatReply] = object_call("POST", CHAT, "/indent_finder", body=body)
        return await self._client._request(call, options)

    def stream_indent_finder(
        self,
        message: str,
        conversation_id: str | None = None,
        workforce_id: str | None = None,
        metadata: Mapping[str, object] | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> AsyncEventStream[StreamEvent]:
        """``indent_finder`` as a stream of JSON events (``async for event in ...``)."""
        body = _indent_body(message, conversation_id, workforce_id, metadata)
        call: Call[StreamEvent] = json_call("POST", CHAT, "/indent_finder/stream", body=body)
        return AsyncEventStream(self._client, call, options)

    async def message(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> Message:
        """Post a chat message."""
        return await self._client._request(
            object_call("POST", CHAT, "/message", body=body), options
        )

    async def list_conversations(
        self, skip: int = 0, limit: int = 50, *, options: RequestOptions | None = None
    ) -> ConversationPage:
        """One page of conversations (items under ``conversations``)."""
        return await self._client._request(_conversations_page(skip, limit), options)

    def iter_conversations(
        self, limit: int = 50, *, options: RequestOptions | None = None
    ) -> AsyncIterator[Conversation]:
        """Every conversation, page after page."""
        return self._client._paginate(
            _conversations_page, limit=limit, key="conversations", options=options
        )

    async def get_conversation(
        self, conversation_id: str, *, options: RequestOptions | None = None
    ) -> Conversation:
        """A conversation with its messages and metadata."""
        call: Call[Conversation] = object_call("GET", CHAT, "/conversations/{}", conversation_id)
        return await self._client._request(call, options)

    async def patch_conversation(
        self,
        conversation_id: str,
        body: Mapping[str, object],
        *,
        options: RequestOptions | None = None,
    ) -> Conversation:
        """Update a conversation (title, pinning, ...)."""
        call: Call[Conversation] = object_call(
            "PATCH", CHAT, "/conversations/{}", conversation_id, body=body
        )
        return await self._client._request(call, options)

    async def delete_conversation(
        self, conversation_id: str, *, options: RequestOptions | None = None
    ) -> Deleted:
        """Delete a conversation."""
        call: Call[Deleted] = json_call("DELETE", CHAT, "/conversations/{}", conversation_id)
        return await self._client._request(call, options)

    async def delete_message(
        self, message_id: str, *, options: RequestOptions | None = None
    ) -> Deleted:
        """Delete one message."""
        call: Call[Deleted] = json_call("DELETE", CHAT, "/messages/{}", message_id)
        return await self._client._request(call, options)

    async def search(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> MessageSearch:
        """Search conversations and messages."""
        return await self._client._request(json_call("POST", CHAT, "/search", body=body), options)

    async def token_stats(
        self, *, options: RequestOptions | None = None, **query: Any
    ) -> TokenStats:
        """Token usage statistics; keyword arguments become the query."""
        call: Call[TokenStats] = object_call("GET", CHAT, "/stats/tokens", query=query_of(**query))
        return await self._client._request(call, options)

    async def generate_agent(
        self, prompt: str, *, options: RequestOptions | None = None
    ) -> AgentGenerationResponse:
        """Generate an agent manifest from a prompt."""
        call = Call(
            method="POST",
            service=CHAT,
            path="/generate/agent",
            body={"prompt": prompt},
            decode=agent_generation,
        )
        return await self._client._request(call, options)

    async def fix_agent(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> FixedAgent:
        """Run an AI fix pass over an agent."""
        call: Call[FixedAgent] = object_call("POST", CHAT, "/fix/agent", body=body)
        return await self._client._request(call, options)

    async def cancel_execution(
        self, conversation_id: str, *, options: RequestOptions | None = None
    ) -> ExecutionRecord:
        """Cancel the running execution of a conversation."""
        call: Call[ExecutionRecord] = json_call(
            "POST", CHAT, "/execution/{}/cancel", conversation_id
        )
        return await self._client._request(call, options)

    async def active_execution(
        self, conversation_id: str, *, options: RequestOptions | None = None
    ) -> ActiveExecution:
        """The running execution of a conversation, if any."""
        call: Call[ActiveExecution] = json_call(
            "GET", CHAT, "/execution/{}/active", conversation_id
        )
        return await self._client._request(call, options)

    def stream_execution(
        self, conversation_id: str, *, options: RequestOptions | None = None
    ) -> AsyncEventStream[StreamEvent]:
        """Follow the running execution of a conversation as JSON events."""
        call: Call[StreamEvent] = json_call("GET", CHAT, "/execution/{}/stream", conversation_id)
        return AsyncEventStream(self._client, call, options)

    async def execution_events(
        self, execution_id: str, *, options: RequestOptions | None = None
    ) -> ExecutionEvents:
        """The recorded events of an execution."""
        call: Call[ExecutionEvents] = json_call("GET", CHAT, "/executions/{}/events", execution_id)
        return await self._client._request(call, options)

    async def debug_start(
        self,
        execution_id: str,
        body: Mapping[str, object] | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> DebugSession:
        """Start debugging an execution."""
        return await self._client._request(_debug(execution_id, "start", body), options)

    async def debug_resume(
        self,
        execution_id: str,
        body: Mapping[str, object] | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> DebugSession:
        """Resume a paused execution."""
        return await self._client._request(_debug(execution_id, "resume", body), options)

    async def debug_inspect(
        self,
        execution_id: str,
        body: Mapping[str, object] | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> DebugSession:
        """Inspect the state of a paused execution."""
        return await self._client._request(_debug(execution_id, "inspect", body), options)

    async def debug_stop(
        self, execution_id: str, *, options: RequestOptions | None = None
    ) -> DebugSession:
        """Stop debugging an execution."""
        return await self._client._request(_debug(execution_id, "stop", None), options)


def _debug(execution_id: str, verb: str, body: Mapping[str, object] | None) -> Call[DebugSession]:
    return json_call("POST", CHAT, "/executions/{}/debug/" + verb, execution_id, body=body)


class AsyncApprovals(AsyncResource):
    """Human-in-the-loop approvals (``/chat/approvals``)."""

    __slots__ = ()

    async def list(self, *, options: RequestOptions | None = None, **query: Any) -> ApprovalPage:
        """Pending and past approvals; keyword arguments become the query."""
        call: Call[ApprovalPage] = json_call("GET", CHAT, "/approvals", query=query_of(**query))
        return await self._client._request(call, options)

    async def get(self, approval_id: str, *, options: RequestOptions | None = None) -> Approval:
        """One approval."""
        call: Call[Approval] = object_call("GET", CHAT, "/approvals/{}", approval_id)
        return await self._client._request(call, options)

    async def decide(
        self, approval_id: str, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> Approval:
        """Approve or reject."""
        call: Call[Approval] = object_call(
            "POST", CHAT, "/approvals/{}/decision", approval_id, body=body
        )
        return await self._client._request(call, options)


def _triggers_page(skip: int, limit: int) -> Call[TriggerPage]:
    return json_call("GET", CHAT, "/trigger", query=query_of(skip=skip, limit=limit))


class AsyncTriggers(AsyncResource):
    """Chat triggers (``/chat/trigger``)."""

    __slots__ = ()

    async def create(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> CreatedTrigger:
        """Create a trigger."""
        return await self._client._request(
            object_call("POST", CHAT, "/trigger", body=body), options
        )

    async def list(
        self, skip: int = 0, limit: int = 50, *, options: RequestOptions | None = None
    ) -> TriggerPage:
        """One page of triggers (items under ``triggers``)."""
        return await self._client._request(_triggers_page(skip, limit), options)

    def iter_all(
        self, limit: int = 50, *, options: RequestOptions | None = None
    ) -> AsyncIterator[Trigger]:
        """Every trigger, page after page."""
        return self._client._paginate(_triggers_page, limit=limit, key="triggers", options=options)

    async def get(self, trigger_id: str, *, options: RequestOptions | None = None) -> Trigger:
        """One trigger."""
        call: Call[Trigger] = object_call("GET", CHAT, "/trigger/{}", trigger_id)
        return await self._client._request(call, options)

    async def update(
        self, trigger_id: str, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> Trigger:
        """Update a trigger."""
        call: Call[Trigger] = object_call("PATCH", CHAT, "/trigger/{}", trigger_id, body=body)
        return await self._client._request(call, options)

    async def delete(self, trigger_id: str, *, options: RequestOptions | None = None) -> Deleted:
        """Delete a trigger."""
        call: Call[Deleted] = json_call("DELETE", CHAT, "/trigger/{}", trigger_id)
        return await self._client._request(call, options)

    def test(
        self,
        trigger_id: str,
        body: Mapping[str, object] | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> AsyncEventStream[StreamEvent]:
        """Test-run a trigger, following the run as JSON events."""
        call: Call[StreamEvent] = json_call("POST", CHAT, "/trigger/{}/test", trigger_id, body=body)
        return AsyncEventStream(self._client, call, options)

    async def list_executions(
        self, trigger_id: str, *, options: RequestOptions | None = None, **query: Any
    ) -> ExecutionRecordPage:
        """The execution history of a trigger; keyword arguments become the query."""
        call: Call[ExecutionRecordPage] = json_call(
            "GET", CHAT, "/trigger/{}/executions", trigger_id, query=query_of(**query)
        )
        return await self._client._request(call, options)
