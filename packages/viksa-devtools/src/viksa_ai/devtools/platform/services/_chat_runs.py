"""The executions the chat started: follow, cancel and debug them.

A conversation's latest execution can be watched (its events), cancelled while it
waits for approval, and any execution can carry a debug session (``debug_session``
records): the local platform records its state but never pauses an execution midway.
"""

from __future__ import annotations

from typing import Literal

from viksa_ai.devtools.platform.services._clock import now_iso
from viksa_ai.devtools.platform.services._engine import Engine, execution_view
from viksa_ai.devtools.platform.services._errors import conflict, not_found
from viksa_ai.devtools.platform.services._records import Caller, owned_record
from viksa_ai.devtools.platform.store._store import Doc, Store

__all__ = ["ChatRuns", "DebugVerb"]

DebugVerb = Literal["start", "resume", "inspect", "stop"]
"""What a debug call does to an execution's debug session."""

_DEBUG_NEXT = {"resume": "running", "stop": "stopped"}


class ChatRuns:
    """Executions seen from the chat: a conversation's latest run, its events, debugging."""

    def __init__(self, store: Store, engine: Engine) -> None:
        self.store = store
        self.engine = engine

    def _execution(self, caller: Caller, execution_id: str) -> Doc:
        return owned_record(self.store, "execution", "Execution", execution_id, caller)

    def _latest(self, caller: Caller, conversation_id: str) -> Doc | None:
        owned_record(self.store, "conversation", "Conversation", conversation_id, caller)
        found, _ = self.store.query(
            "execution", where={"conversation_id": conversation_id}, limit=1, newest_first=True
        )
        return found[0] if found else None

    def _events(self, record: Doc) -> list[Doc]:
        events = [
            {"type": "execution.created", "execution_id": record["id"], "at": record["created_at"]}
        ]
        if record.get("approval_id"):
            approval = self.store.get("approval", record["approval_id"]) or {}
            events.append({"type": "approval.requested", "approval_id": record["approval_id"]})
            if approval.get("decided_at"):
                events.append(
                    {"type": f"approval.{approval['status']}", "at": approval["decided_at"]}
                )
        if record.get("finished_at"):
            events.append(
                {
                    "type": f"execution.{record['status']}",
                    "at": record["finished_at"],
                    **execution_view(record),
                }
            )
        return events

    def cancel(self, caller: Caller, conversation_id: str) -> Doc:
        """Cancel the conversation's execution that waits for approval (409 otherwise)."""
        record = self._latest(caller, conversation_id)
        if record is None or self.engine.is_final(record):
            raise conflict("This conversation has no active execution.", code="no_active_execution")
        if record["status"] != "awaiting_approval":
            raise conflict(
                "The execution is already running and cannot be stopped midway.", code="running"
            )
        cancelled = self.engine.cancel_waiting(record["id"], "Cancelled from the chat.")
        return execution_view(cancelled or record)

    def active(self, caller: Caller, conversation_id: str) -> Doc:
        """The conversation's execution that has not ended yet, if any."""
        record = self._latest(caller, conversation_id)
        active = record is not None and not self.engine.is_final(record)
        return {
            "conversation_id": conversation_id,
            "active": active,
            "execution": execution_view(record) if record is not None and active else None,
        }

    def latest_events(self, caller: Caller, conversation_id: str) -> list[Doc]:
        """The events of the conversation's latest execution; 404 when it has none."""
        record = self._latest(caller, conversation_id)
        if record is None:
            raise not_found("Execution of conversation", conversation_id)
        return self._events(record)

    def events(self, caller: Caller, execution_id: str) -> Doc:
        """What happened to an execution, in order."""
        events = self._events(self._execution(caller, execution_id))
        return {"execution_id": execution_id, "events": events, "total": len(events)}

    def debug(self, caller: Caller, execution_id: str, verb: DebugVerb, body: Doc) -> Doc:
        """Open (``start``), move (``resume``, ``stop``) or read (``inspect``) a debug session."""
        record = self._execution(caller, execution_id)
        session = self.store.get("debug_session", execution_id)
        if verb == "start":
            if session is not None and session["state"] != "stopped":
                raise conflict(
                    "A debug session is already open for this execution.", code="debugging"
                )
            session = {
                "id": execution_id,
                "state": "paused",
                "breakpoints": body.get("breakpoints", []),
                "started_at": now_iso(),
            }
            self.store.delete("debug_session", execution_id)
            self.store.insert("debug_session", session, scope=caller.project_id)
        elif session is None or session["state"] == "stopped":
            raise conflict(
                "No debug session is open: call debug_start first.", code="not_debugging"
            )
        elif verb != "inspect":
            session["state"] = _DEBUG_NEXT[verb]
            self.store.save("debug_session", session)
        return {
            "execution_id": execution_id,
            "debug": session,
            "execution": {**execution_view(record), "inputs": record["inputs"]},
            "note": "The local platform records debug state; executions are not paused midway.",
        }
