"""Conversations and their messages, and the deterministic assistant that answers them.

No model runs here: the assistant runs the endpoint a message names (``alias.module.fn``
followed by JSON inputs) or lists the project's runnable endpoints, and word counts
stand in for tokens.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from viksa_ai.devtools._json import dumps_json
from viksa_ai.devtools.platform.services._assistant import (
    DETERMINISTIC_NOTE,
    generated_agent,
    list_runnable,
    parse_request,
    words,
)
from viksa_ai.devtools.platform.services._clock import now_iso
from viksa_ai.devtools.platform.services._engine import Engine, execution_view
from viksa_ai.devtools.platform.services._errors import (
    DomainError,
    NotFoundError,
    detail_item,
    not_found,
    unprocessable,
)
from viksa_ai.devtools.platform.services._records import Caller, owned_record
from viksa_ai.devtools.platform.services._security import new_id
from viksa_ai.devtools.platform.services._validation import (
    body_int,
    manifest_issues,
    typed_field,
)
from viksa_ai.devtools.platform.store._store import Doc, Store

__all__ = ["Chat", "chat_text"]

_ROLES = ("user", "assistant", "system", "tool")
# What the platform keeps (messages are records of their own, listed by get).
_FIXED = frozenset({"id", "created_at", "updated_at", "message_count", "messages"})


def chat_text(body: dict[str, Any], *fields: str) -> str:
    """The first non-blank string of ``fields`` in ``body``; 422 naming the first otherwise."""
    for field in fields:
        if isinstance(body.get(field), str) and body[field].strip():
            return str(body[field])
    raise unprocessable([detail_item(["body", fields[0]], "Field required", "missing")])


def _conversation_id(body: dict[str, Any]) -> str | None:
    """The conversation a body names (None: a new one); 422 when it is not text."""
    conversation_id = body.get("conversation_id")
    if conversation_id is not None and not isinstance(conversation_id, str):
        raise unprocessable(
            [
                detail_item(
                    ["body", "conversation_id"], "Input should be a valid string", "string_type"
                )
            ]
        )
    return conversation_id


class Chat:
    """The ``conversation`` and ``message`` records of each project, and the assistant."""

    def __init__(self, store: Store, engine: Engine, *, validation_time_limit: float) -> None:
        self.store = store
        self.engine = engine
        self.validation_time_limit = validation_time_limit

    def _owned(self, caller: Caller, conversation_id: str) -> Doc:
        return owned_record(self.store, "conversation", "Conversation", conversation_id, caller)

    def _conversation(self, caller: Caller, body: dict[str, Any], first: str) -> Doc:
        conversation_id = _conversation_id(body)
        if conversation_id is not None:
            return self._owned(caller, conversation_id)
        # Checked as an update checks it: a string or a list was kept as sent.
        typed_field(body, "metadata", dict)
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
        return self.store.insert("conversation", conversation, scope=caller.project_id)

    def _add_message(
        self, caller: Caller, conversation: Doc, role: str, content: str, **extra: Any
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
        with self.store.transaction():
            # The conversation as stored now: an assistant's turn read it before its run,
            # and a rename, another message or its deletion may have come in meanwhile.
            current = self.store.get("conversation", conversation["id"])
            if current is None:
                raise not_found("Conversation", conversation["id"])
            self.store.insert("message", message, scope=caller.project_id)
            current["message_count"] = current.get("message_count", 0) + 1
            current["updated_at"] = message["created_at"]
            self.store.save("conversation", current)
        return message

    async def converse(self, caller: Caller, body: dict[str, Any]) -> AsyncIterator[Doc]:
        """The assistant's turn as events; the last one (``type: result``) is the answer."""
        text = chat_text(body, "message")
        conversation = self._conversation(caller, body, text)
        user_message = self._add_message(caller, conversation, "user", text)
        yield {"type": "conversation", "conversation_id": conversation["id"], "deterministic": True}
        parsed = parse_request(text)
        execution: Doc | None = None
        runnable = list_runnable(self.store, caller.project_id)
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
                    target = self.engine.target(
                        caller.project_id, found["agent_id"], parsed.endpoint
                    )
                    await self.engine.check_inputs(target, parsed.inputs, None)
                except DomainError as exc:
                    reply = f"Cannot run {parsed.endpoint}: {json.dumps(exc.detail)}"
                else:
                    record = self.engine.new_execution(
                        target,
                        inputs=parsed.inputs,
                        envelope=None,
                        timeout=None,
                        source="chat",
                        context={"conversation_id": conversation["id"]},
                    )
                    yield {"type": "execution.started", "execution_id": record["id"]}
                    execution = execution_view(await self.engine.execute(record))
                    yield {"type": "execution.finished", **execution}
                    reply = f"{parsed.endpoint} {execution['status']}: " + dumps_json(
                        execution["response"] if execution["error"] is None else execution["error"]
                    )
        for word in reply.split(" "):
            yield {"type": "message.delta", "content": word + " "}
        result: Doc = {
            "type": "result",
            "conversation_id": conversation["id"],
            "user_message_id": user_message["id"],
        }
        try:
            answer = self._add_message(
                caller, conversation, "assistant", reply, intent=intent, deterministic=True
            )
        except NotFoundError:
            # Deleted while the turn ran: the reply is told, not stored (nor is the
            # conversation brought back); no message id, and the flag says why.
            result["conversation_deleted"] = True
        else:
            result["message_id"] = answer["id"]
        yield {
            **result,
            "intent": intent,
            "response": reply,
            "execution": execution,
            "endpoints": runnable if intent == "list_endpoints" else None,
            "deterministic": True,
            "note": DETERMINISTIC_NOTE,
        }

    async def answer(self, caller: Caller, body: dict[str, Any]) -> Doc:
        """The assistant's turn, as its final ``result`` event (without ``type``)."""
        answer: Doc = {}
        async for event in self.converse(caller, body):
            answer = event
        answer.pop("type", None)
        return answer

    def stream(self, caller: Caller, body: dict[str, Any]) -> AsyncIterator[Doc]:
        """The assistant's turn as events; a body without ``message``, or naming a
        conversation the caller cannot write to, fails now (4xx), not mid-stream."""
        chat_text(body, "message")
        conversation_id = _conversation_id(body)
        if conversation_id is not None:
            self._owned(caller, conversation_id)
        else:
            typed_field(body, "metadata", dict)
        return self.converse(caller, body)

    def post_message(self, caller: Caller, body: dict[str, Any]) -> Doc:
        """Store a message (a new conversation when ``conversation_id`` is absent)."""
        content = chat_text(body, "content", "message")
        conversation = self._conversation(caller, body, content)
        role = body.get("role", "user")
        if role not in _ROLES:
            raise unprocessable([detail_item(["body", "role"], "unknown role", "enum")])
        return self._add_message(caller, conversation, str(role), content)

    def page(self, project_id: str, *, skip: int, limit: int) -> tuple[list[Doc], int]:
        """One page of a project's conversations, most recent first."""
        return self.store.query(
            "conversation", scope=project_id, skip=skip, limit=limit, newest_first=True
        )

    def get(self, caller: Caller, conversation_id: str) -> Doc:
        """A conversation with its messages."""
        conversation = self._owned(caller, conversation_id)
        messages, _ = self.store.query("message", where={"conversation_id": conversation_id})
        return {**conversation, "messages": messages}

    def update(self, caller: Caller, conversation_id: str, body: dict[str, Any]) -> Doc:
        """Change a conversation's title, metadata or other fields."""
        conversation = self._owned(caller, conversation_id)
        typed_field(body, "title", str)
        typed_field(body, "metadata", dict)
        conversation.update({k: v for k, v in body.items() if k not in _FIXED})
        conversation["updated_at"] = now_iso()
        return self.store.save("conversation", conversation)

    def delete(self, caller: Caller, conversation_id: str) -> None:
        """Delete a conversation and its messages."""
        self._owned(caller, conversation_id)
        with self.store.transaction():
            messages, _ = self.store.query("message", where={"conversation_id": conversation_id})
            for message in messages:
                self.store.delete("message", message["id"])
            self.store.delete("conversation", conversation_id)

    def delete_message(self, caller: Caller, message_id: str) -> None:
        """Delete one message (its conversation counts one fewer)."""
        message = owned_record(self.store, "message", "Message", message_id, caller)
        with self.store.transaction():
            self.store.delete("message", message_id)
            conversation = self.store.get("conversation", message["conversation_id"])
            if conversation is not None:
                conversation["message_count"] = max(0, conversation.get("message_count", 1) - 1)
                self.store.save("conversation", conversation)

    def search(self, caller: Caller, body: dict[str, Any]) -> Doc:
        """Messages whose content holds ``query`` (case-insensitive)."""
        query = chat_text(body, "query", "q")
        limit = body_int(body, "limit", default=50, low=1, high=1000)
        found, total = self.store.query(
            "message",
            scope=caller.project_id,
            search=query,
            search_fields=("content",),
            limit=limit,
        )
        return {"query": query, "results": found, "total": total}

    def token_stats(self, project_id: str, conversation_id: str | None) -> Doc:
        """Token counts of stored messages (words stand in for tokens: no model runs here)."""
        where = None if conversation_id is None else {"conversation_id": conversation_id}
        messages, count = self.store.query("message", scope=project_id, where=where)
        prompt = sum(m.get("tokens", 0) for m in messages if m["role"] == "user")
        completion = sum(m.get("tokens", 0) for m in messages if m["role"] != "user")
        return {
            "messages": count,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "counting": "whitespace-separated words",
            "deterministic": True,
        }

    def generate_agent(self, body: dict[str, Any]) -> Doc:
        """An AgentGenerationResponse built from a fixed template (no model runs here)."""
        return generated_agent(chat_text(body, "prompt"))

    async def fix_agent(self, body: dict[str, Any]) -> Doc:
        """The validator's issues with a manifest (sent whole, or under ``agent``/``manifest``)."""
        manifest = body.get("agent") or body.get("manifest") or body
        if not isinstance(manifest, dict):
            raise unprocessable(
                [detail_item(["body", "agent"], "send the manifest object", "dict_type")]
            )
        issues = await manifest_issues(manifest, time_limit=self.validation_time_limit)
        return {
            "fixed": False,
            "valid": not issues,
            "issues": issues,
            "agent": manifest,
            "deterministic": True,
            "note": DETERMINISTIC_NOTE + " The manifest is returned unchanged with its issues.",
        }
