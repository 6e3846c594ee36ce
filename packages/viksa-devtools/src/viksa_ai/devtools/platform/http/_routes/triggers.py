"""``/chat/trigger``, ``/chat/approvals`` and the public ``/chat/webhook/trigger`` routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Header, Query
from fastapi.responses import StreamingResponse

from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform.http._answers import JsonAnswer
from viksa_ai.devtools.platform.http._bodies import JsonBody, OptionalJsonBody
from viksa_ai.devtools.platform.http._deps import (
    NO_STORE,
    PageDep,
    PlatformDep,
    ProjectDep,
)
from viksa_ai.devtools.platform.http._listing import listing
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.http._sse import sse_response
from viksa_ai.devtools.platform.services._engine import execution_view
from viksa_ai.devtools.platform.services._errors import (
    detail_item,
    unprocessable,
)
from viksa_ai.devtools.platform.services._triggers import public_trigger, trigger_enabled
from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["approvals", "triggers", "webhooks"]

triggers = PlatformRouter(prefix="/chat/trigger", tags=["triggers"])
approvals = PlatformRouter(prefix="/chat/approvals", tags=["approvals"])
webhooks = PlatformRouter(prefix="/chat/webhook/trigger", tags=["webhooks"])


@triggers.post("", status_code=201, dependencies=[NO_STORE])
async def create_trigger(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Bind a webhook to an endpoint; ``webhook_token`` is shown this once."""
    return platform.triggers.create(tenant.caller, body)


@triggers.get("")
async def list_triggers(platform: PlatformDep, tenant: ProjectDep, page: PageDep) -> Doc:
    """One page of the project's triggers (never their tokens)."""
    found = platform.triggers.page(tenant.project, skip=page.skip, limit=page.limit)
    return listing("triggers", found, page, view=public_trigger)


@triggers.get("/{trigger_id}")
async def get_trigger(trigger_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One trigger."""
    return public_trigger(platform.triggers.get(tenant.caller, trigger_id))


@triggers.patch("/{trigger_id}", dependencies=[NO_STORE])
async def update_trigger(
    trigger_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change a trigger; ``rotate_token: true`` issues a new token (shown once)."""
    return platform.triggers.update(tenant.caller, trigger_id, body)


@triggers.delete("/{trigger_id}")
async def delete_trigger(trigger_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete a trigger: its webhook stops answering."""
    platform.triggers.delete(tenant.caller, trigger_id)
    return {"id": trigger_id, "deleted": True}


@triggers.post("/{trigger_id}/test")
async def run_trigger_test(
    trigger_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> StreamingResponse:
    """Run the trigger's endpoint with ``body`` as a webhook would, streamed as SSE."""
    trigger = platform.triggers.get(tenant.caller, trigger_id)
    record = await platform.triggers.start(trigger, body or {}, source="trigger.test")
    return sse_response(_run_events(platform, record))


@triggers.get("/{trigger_id}/executions", response_model=Doc)
async def list_trigger_executions(
    trigger_id: str, platform: PlatformDep, tenant: ProjectDep, page: PageDep
) -> JsonAnswer:
    """The executions a trigger started, most recent first."""
    found = platform.triggers.executions(
        tenant.caller, trigger_id, skip=page.skip, limit=page.limit
    )
    return JsonAnswer(listing("executions", found, page, view=execution_view))


# -- running a trigger ----------------------------------------------------------------


async def _run_events(platform: Platform, record: Doc) -> AsyncIterator[Doc]:
    yield {"type": "execution.started", "execution_id": record["id"], "status": record["status"]}
    final = await platform.engine.execute(record)
    yield {"type": f"execution.{final['status']}", **execution_view(final)}


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
    trigger = platform.triggers.for_webhook(trigger_id, authorization)
    record = await platform.triggers.start(trigger, body or {}, source="webhook")
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
    trigger = platform.triggers.for_webhook(trigger_id, authorization)
    record = await platform.triggers.start(trigger, body or {}, source="webhook.stream")
    return sse_response(_run_events(platform, record))


@webhooks.get("/{trigger_id}/health")
async def webhook_health(
    trigger_id: str, platform: PlatformDep, authorization: _Auth = None
) -> Doc:
    """Whether the webhook would accept a call now."""
    trigger = platform.triggers.for_webhook(trigger_id, authorization)
    enabled = trigger_enabled(trigger)
    return {
        "status": "ok" if enabled else "disabled",
        "trigger_id": trigger_id,
        "enabled": enabled,
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
    found = platform.engine.approvals(tenant.project, status, skip=page.skip, limit=page.limit)
    return listing("approvals", found, page)


@approvals.get("/{approval_id}")
async def get_approval(approval_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One approval."""
    return platform.engine.approval(tenant.caller, approval_id)


@approvals.post("/{approval_id}/decision")
async def decide(
    approval_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Approve (the execution runs now) or reject a pending approval.

    Body: ``{"decision": "approve" | "reject", "comment"?}`` (or ``{"approved": bool}``).
    """
    approval = platform.engine.approval(tenant.caller, approval_id)
    return await platform.engine.decide(
        approval,
        approve=_decision(body) == "approve",
        comment=comment if isinstance(comment := body.get("comment"), str) else None,
        by=tenant.principal.user_id,
    )


def _decision(body: dict[str, Any]) -> str:
    """``approve`` or ``reject``: what ``decision`` and ``approved`` say (422 unless they agree).

    A gate on agent code: a body saying both (``"reject"`` and ``true``) is refused, not
    read as an approval.
    """
    said: set[str] = set()
    if body.get("decision") is not None:
        said.add(_DECISIONS.get(str(body["decision"]), "invalid"))
    if (approved := body.get("approved")) is not None:
        said.add(("approve" if approved else "reject") if isinstance(approved, bool) else "invalid")
    if len(said) != 1 or "invalid" in said:
        raise unprocessable(
            [
                detail_item(
                    ["body", "decision"],
                    'decision must be "approve" or "reject" (or approved true or false), '
                    "and both agree when both are sent",
                    "enum",
                )
            ]
        )
    return said.pop()
