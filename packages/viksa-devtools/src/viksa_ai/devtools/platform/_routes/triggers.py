"""``/chat/trigger``, ``/chat/approvals`` and the public ``/chat/webhook/trigger`` routes."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from viksa_ai.devtools.platform._answers import JsonAnswer
from viksa_ai.devtools.platform._bodies import JsonBody, OptionalJsonBody, required_id
from viksa_ai.devtools.platform._clock import now_iso
from viksa_ai.devtools.platform._deps import (
    NO_STORE,
    PageDep,
    PlatformDep,
    ProjectDep,
    Tenant,
    owned,
)
from viksa_ai.devtools.platform._engine import execution_view
from viksa_ai.devtools.platform._errors import (
    conflict,
    detail_item,
    not_found,
    unauthorized,
    unprocessable,
)
from viksa_ai.devtools.platform._listing import listing
from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform._security import hash_token, new_id, new_secret
from viksa_ai.devtools.platform._sse import sse_response
from viksa_ai.devtools.platform._store import Doc
from viksa_ai.devtools.platform._strict_route import StrictJsonRoute

__all__ = ["approvals", "triggers", "webhooks"]

triggers = APIRouter(route_class=StrictJsonRoute, prefix="/chat/trigger", tags=["triggers"])
approvals = APIRouter(route_class=StrictJsonRoute, prefix="/chat/approvals", tags=["approvals"])
webhooks = APIRouter(route_class=StrictJsonRoute, prefix="/chat/webhook/trigger", tags=["webhooks"])

_FIXED = frozenset(
    {
        "id",
        "token_hash",
        "token_prefix",
        "created_at",
        "updated_at",
        "execution_count",
        "webhook_url",
    }
)


def _public(trigger: Doc) -> Doc:
    return {k: v for k, v in trigger.items() if k != "token_hash"}


def _check_target(platform: Platform, tenant: Tenant, trigger: Doc) -> None:
    agent = owned(platform, "agent", "Agent", required_id(trigger, "agent_id"), tenant)
    paths = [e["endpoint"] for e in agent["agent_endpoints"]]
    if trigger.get("endpoint") not in paths:
        raise unprocessable(
            [
                detail_item(
                    ["body", "endpoint"],
                    f"endpoint must be one of the agent's: {', '.join(paths)}",
                    "value_error.endpoint",
                )
            ]
        )


def _issue_token(trigger: Doc) -> str:
    token = new_secret("vwh")
    trigger["token_hash"] = hash_token(token)
    trigger["token_prefix"] = token[:8]
    return token


@triggers.post("", status_code=201, dependencies=[NO_STORE])
async def create_trigger(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Bind a webhook to an endpoint; ``webhook_token`` is shown this once."""
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
    _check_target(platform, tenant, trigger)
    token = _issue_token(trigger)
    trigger["webhook_url"] = f"/chat/webhook/trigger/{trigger['id']}"
    platform.store.insert("trigger", trigger, scope=tenant.project)
    return {**_public(trigger), "webhook_token": token}


@triggers.get("")
async def list_triggers(platform: PlatformDep, tenant: ProjectDep, page: PageDep) -> Doc:
    """One page of the project's triggers (never their tokens)."""
    found = platform.store.query("trigger", scope=tenant.project, skip=page.skip, limit=page.limit)
    return listing("triggers", found, page, view=_public)


@triggers.get("/{trigger_id}")
async def get_trigger(trigger_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One trigger."""
    return _public(owned(platform, "trigger", "Trigger", trigger_id, tenant))


@triggers.patch("/{trigger_id}", dependencies=[NO_STORE])
async def update_trigger(
    trigger_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change a trigger; ``rotate_token: true`` issues a new token (shown once)."""
    trigger = owned(platform, "trigger", "Trigger", trigger_id, tenant)
    rotate = body.get("rotate_token") is True
    trigger.update({k: v for k, v in body.items() if k not in _FIXED and k != "rotate_token"})
    _check_target(platform, tenant, trigger)
    token = _issue_token(trigger) if rotate else None
    trigger["updated_at"] = now_iso()
    platform.store.save("trigger", trigger)
    return {**_public(trigger), **({"webhook_token": token} if token else {})}


@triggers.delete("/{trigger_id}")
async def delete_trigger(trigger_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete a trigger: its webhook stops answering."""
    owned(platform, "trigger", "Trigger", trigger_id, tenant)
    platform.store.delete("trigger", trigger_id)
    return {"id": trigger_id, "deleted": True}


@triggers.post("/{trigger_id}/test")
async def run_trigger_test(
    trigger_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> StreamingResponse:
    """Run the trigger's endpoint with ``body`` as a webhook would, streamed as SSE."""
    trigger = owned(platform, "trigger", "Trigger", trigger_id, tenant)
    record = _start(platform, trigger, body or {}, source="trigger.test")
    return sse_response(_run_events(platform, record))


@triggers.get("/{trigger_id}/executions")
async def list_trigger_executions(
    trigger_id: str, platform: PlatformDep, tenant: ProjectDep, page: PageDep
) -> Doc:
    """The executions a trigger started, most recent first."""
    owned(platform, "trigger", "Trigger", trigger_id, tenant)
    found = platform.store.query(
        "execution",
        where={"trigger_id": trigger_id},
        skip=page.skip,
        limit=page.limit,
        newest_first=True,
    )
    return listing("executions", found, page, view=execution_view)


# -- running a trigger ----------------------------------------------------------------


def _start(platform: Platform, trigger: Doc, payload: dict[str, Any], *, source: str) -> Doc:
    if not trigger.get("enabled", True):
        raise conflict(f"Trigger {trigger['id']!r} is disabled.", code="trigger_disabled")
    project = platform.store.scope_of("trigger", trigger["id"])
    assert project is not None
    target = platform.engine.target(project, trigger["agent_id"], trigger["endpoint"])
    platform.engine.check_inputs(target, payload, None)
    trigger["last_triggered_at"] = now_iso()
    trigger["execution_count"] = trigger.get("execution_count", 0) + 1
    platform.store.save("trigger", trigger)
    return platform.engine.new_execution(
        target,
        inputs=payload,
        envelope=None,
        timeout=None,
        source=source,
        context={"trigger_id": trigger["id"]},
    )


async def _run_events(platform: Platform, record: Doc) -> AsyncIterator[Doc]:
    yield {"type": "execution.started", "execution_id": record["id"], "status": record["status"]}
    final = await platform.engine.execute(record)
    yield {"type": f"execution.{final['status']}", **execution_view(final)}


def _webhook_trigger(platform: Platform, trigger_id: str, authorization: str | None) -> Doc:
    trigger = platform.store.get("trigger", trigger_id)
    if trigger is None:
        raise not_found("Trigger", trigger_id)
    if trigger.get("require_token", True):
        given = (
            (authorization or "")[7:] if (authorization or "").lower().startswith("bearer ") else ""
        )
        if not given or not hmac.compare_digest(hash_token(given), trigger["token_hash"]):
            raise unauthorized(
                "This webhook needs its token: send Authorization: Bearer <webhook_token>.",
                code="invalid_webhook_token",
            )
    return trigger


_DECISIONS = {"approve": "approve", "approved": "approve", "reject": "reject", "rejected": "reject"}
_Auth = Annotated[str | None, Header(description="Bearer <webhook_token>")]


@webhooks.post("/{trigger_id}")
async def invoke_webhook(
    trigger_id: str,
    platform: PlatformDep,
    authorization: _Auth = None,
    body: OptionalJsonBody = None,
) -> JsonAnswer:
    """Run the trigger's endpoint with the payload; 202 when it waits for an approval."""
    trigger = _webhook_trigger(platform, trigger_id, authorization)
    record = _start(platform, trigger, body or {}, source="webhook")
    if record["status"] == "awaiting_approval":
        platform.engine.start(record)
        return JsonAnswer({**execution_view(record), "trigger_id": trigger_id}, status_code=202)
    final = await platform.engine.execute(record)
    return JsonAnswer({**execution_view(final), "trigger_id": trigger_id})


@webhooks.post("/{trigger_id}/stream")
async def stream_webhook(
    trigger_id: str,
    platform: PlatformDep,
    authorization: _Auth = None,
    body: OptionalJsonBody = None,
) -> StreamingResponse:
    """Run the trigger's endpoint, streaming its events as SSE."""
    trigger = _webhook_trigger(platform, trigger_id, authorization)
    record = _start(platform, trigger, body or {}, source="webhook.stream")
    return sse_response(_run_events(platform, record))


@webhooks.get("/{trigger_id}/health")
async def webhook_health(
    trigger_id: str, platform: PlatformDep, authorization: _Auth = None
) -> Doc:
    """Whether the webhook would accept a call now."""
    trigger = _webhook_trigger(platform, trigger_id, authorization)
    return {
        "status": "ok" if trigger.get("enabled", True) else "disabled",
        "trigger_id": trigger_id,
        "enabled": trigger.get("enabled", True),
        "endpoint": trigger["endpoint"],
    }


# -- approvals --------------------------------------------------------------------------


@approvals.get("")
async def list_approvals(
    platform: PlatformDep,
    tenant: ProjectDep,
    page: PageDep,
    status: Annotated[str | None, Query()] = None,
) -> Doc:
    """One page of the project's approvals, most recent first, optionally by ``status``."""
    found = platform.store.query(
        "approval",
        scope=tenant.project,
        where=None if status is None else {"status": status},
        skip=page.skip,
        limit=page.limit,
        newest_first=True,
    )
    return listing("approvals", found, page)


@approvals.get("/{approval_id}")
async def get_approval(approval_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One approval."""
    return owned(platform, "approval", "Approval", approval_id, tenant)


@approvals.post("/{approval_id}/decision")
async def decide(
    approval_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Approve (the execution runs now) or reject a pending approval.

    Body: ``{"decision": "approve" | "reject", "comment"?}`` (or ``{"approved": bool}``).
    """
    approval = owned(platform, "approval", "Approval", approval_id, tenant)
    decision = _DECISIONS.get(str(body.get("decision")))
    if isinstance(body.get("approved"), bool):
        decision = "approve" if body["approved"] else "reject"
    if decision is None:
        raise unprocessable(
            [detail_item(["body", "decision"], 'decision must be "approve" or "reject"', "enum")]
        )
    comment = body.get("comment")
    return await platform.engine.decide(
        approval,
        approve=decision == "approve",
        comment=comment if isinstance(comment, str) else None,
        by=tenant.principal.user_id,
    )
