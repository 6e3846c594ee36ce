"""Webhook triggers: each binds an endpoint of an agent to a webhook token.

The token is shown once (at creation and at each rotation) and stored as a SHA-256
digest; a webhook call names the trigger and presents the token (when the trigger
requires one). Every run a trigger starts is an execution carrying its ``trigger_id``.
"""

from __future__ import annotations

import hmac
from typing import Any

from viksa_ai.devtools.platform.services._clock import now_iso
from viksa_ai.devtools.platform.services._engine import Engine
from viksa_ai.devtools.platform.services._errors import (
    conflict,
    not_found,
    unauthorized,
)
from viksa_ai.devtools.platform.services._records import Caller, owned_endpoint, owned_record
from viksa_ai.devtools.platform.services._security import hash_token, new_id, new_secret
from viksa_ai.devtools.platform.services._validation import required_id, typed_field
from viksa_ai.devtools.platform.store._store import Doc, Store

__all__ = ["Triggers", "public_trigger", "trigger_enabled"]

_FIXED = frozenset(
    {
        "id",
        "token_hash",
        "token_prefix",
        "created_at",
        "updated_at",
        "execution_count",
        "webhook_url",
        # Set by the platform only: a body's "webhook_token" showed in every listing as if
        # it were the token, and a last run time of any type was kept.
        "webhook_token",
        "last_triggered_at",
    }
)


def public_trigger(trigger: Doc) -> Doc:
    """A trigger as answered: never its token digest; its switches as the webhook reads them."""
    shown = {k: v for k, v in trigger.items() if k != "token_hash"}
    # An earlier version kept a switch as sent ("false", 0): answer what it means.
    shown.update(enabled=trigger_enabled(trigger), require_token=_token_required(trigger))
    return shown


def trigger_enabled(trigger: Doc) -> bool:
    """Whether a trigger's webhook runs: only a JSON ``true`` (or no switch) enables it.

    The one reading of the switch (the webhook, its health, the dashboard): an earlier
    version stored ``"false"`` or ``0`` as sent, which must read as disabled.
    """
    return trigger.get("enabled", True) is True


def _token_required(trigger: Doc) -> bool:
    # Fails closed as trigger_enabled does: only a JSON false lets a caller in untokened.
    return trigger.get("require_token", True) is not False


def _refuse_disabled(trigger: Doc) -> None:
    if not trigger_enabled(trigger):
        raise conflict(f"Trigger {trigger['id']!r} is disabled.", code="trigger_disabled")


def _issue_token(trigger: Doc) -> str:
    token = new_secret("vwh")
    trigger["token_hash"] = hash_token(token)
    trigger["token_prefix"] = token[:8]
    return token


# The switches of a trigger: booleans on the wire and in the record.
_FLAGS = ("enabled", "require_token")


class Triggers:
    """The ``trigger`` records and the runs their webhooks start."""

    def __init__(self, store: Store, engine: Engine) -> None:
        self.store = store
        self.engine = engine

    def _owned(self, caller: Caller, trigger_id: str) -> Doc:
        return owned_record(self.store, "trigger", "Trigger", trigger_id, caller)

    def _check_target(self, caller: Caller, trigger: Doc) -> None:
        typed_field(trigger, "name", str, required=True)
        for flag in _FLAGS:
            # A truthy "false" kept a webhook running; a falsy 0 or "" let anyone call it.
            typed_field(trigger, flag, bool, required=True)
        agent_id = required_id(trigger, "agent_id")
        owned_endpoint(self.store, caller, agent_id, trigger.get("endpoint"), ["body", "endpoint"])

    def create(self, caller: Caller, body: dict[str, Any]) -> Doc:
        """A new trigger; the answer holds ``webhook_token``, shown this once."""
        now = now_iso()
        trigger = {
            "name": "webhook",
            "enabled": True,
            "require_token": True,
            **{k: v for k, v in body.items() if k not in _FIXED},
            "id": new_id("trg"),
            "created_at": now,
            "updated_at": now,
            "last_triggered_at": None,
            "execution_count": 0,
        }
        self._check_target(caller, trigger)
        token = _issue_token(trigger)
        trigger["webhook_url"] = f"/chat/webhook/trigger/{trigger['id']}"
        self.store.insert("trigger", trigger, scope=caller.project_id)
        return {**public_trigger(trigger), "webhook_token": token}

    def page(self, project_id: str, *, skip: int, limit: int) -> tuple[list[Doc], int]:
        """One page of a project's triggers (their stored form: answer with public_trigger)."""
        return self.store.query("trigger", scope=project_id, skip=skip, limit=limit)

    def get(self, caller: Caller, trigger_id: str) -> Doc:
        """One trigger of the caller's project (its stored form)."""
        return self._owned(caller, trigger_id)

    def update(self, caller: Caller, trigger_id: str, body: dict[str, Any]) -> Doc:
        """Change a trigger; ``rotate_token: true`` issues a new token (in the answer, once)."""
        trigger = self._owned(caller, trigger_id)
        rotate = body.get("rotate_token") is True
        trigger.update({k: v for k, v in body.items() if k not in _FIXED and k != "rotate_token"})
        self._check_target(caller, trigger)
        token = _issue_token(trigger) if rotate else None
        trigger["updated_at"] = now_iso()
        self.store.save("trigger", trigger)
        return {**public_trigger(trigger), **({"webhook_token": token} if token else {})}

    def delete(self, caller: Caller, trigger_id: str) -> None:
        """Delete a trigger: its webhook stops answering."""
        self._owned(caller, trigger_id)
        self.store.delete("trigger", trigger_id)

    def executions(
        self, caller: Caller, trigger_id: str, *, skip: int, limit: int
    ) -> tuple[list[Doc], int]:
        """The executions a trigger started, most recent first."""
        self._owned(caller, trigger_id)
        return self.store.query(
            "execution",
            where={"trigger_id": trigger_id},
            skip=skip,
            limit=limit,
            newest_first=True,
        )

    async def start(self, trigger: Doc, payload: dict[str, Any], *, source: str) -> Doc:
        """Record a run of the trigger's endpoint with ``payload`` (not run yet)."""
        _refuse_disabled(trigger)
        project = self.store.scope_of("trigger", trigger["id"])
        assert project is not None
        target = self.engine.target(project, trigger["agent_id"], trigger["endpoint"])
        await self.engine.check_inputs(target, payload, None)
        with self.store.transaction():
            # The trigger as stored now, not as read before the await: saving that copy
            # undid a rename, a switch-off or a token rotation made meanwhile (bringing
            # the old token back), and lost the counts of concurrent calls.
            current = self.store.get("trigger", trigger["id"])
            if current is None:
                raise not_found("Trigger", trigger["id"])
            _refuse_disabled(current)
            current["last_triggered_at"] = now_iso()
            current["execution_count"] = current.get("execution_count", 0) + 1
            self.store.save("trigger", current)
        return self.engine.new_execution(
            target,
            inputs=payload,
            envelope=None,
            timeout=None,
            source=source,
            context={"trigger_id": trigger["id"]},
        )

    def for_webhook(self, trigger_id: str, authorization: str | None) -> Doc:
        """The trigger a webhook call names, once its token is checked (401 otherwise)."""
        trigger = self.store.get("trigger", trigger_id)
        if trigger is None:
            raise not_found("Trigger", trigger_id)
        if _token_required(trigger):
            sent = authorization or ""
            given = sent[7:] if sent.lower().startswith("bearer ") else ""
            if not given or not hmac.compare_digest(hash_token(given), trigger["token_hash"]):
                raise unauthorized(
                    "This webhook needs its token: send Authorization: Bearer <webhook_token>.",
                    code="invalid_webhook_token",
                )
        return trigger
