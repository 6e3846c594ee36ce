"""``/pulse/executor``: run deployed endpoints now (execute) or in the background (invoke)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import Query, Request

from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform._tracing import continue_envelope
from viksa_ai.devtools.platform.http._answers import JsonAnswer
from viksa_ai.devtools.platform.http._bodies import JsonBody, json_object, parse_body
from viksa_ai.devtools.platform.http._deps import (
    PageDep,
    PlatformDep,
    ProjectDep,
    Tenant,
    project_of,
)
from viksa_ai.devtools.platform.http._listing import listing
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.http._strict_route import direct_route
from viksa_ai.devtools.platform.services._engine import ExecutionFilter, Target, execution_view
from viksa_ai.devtools.platform.services._errors import detail_item, unprocessable
from viksa_ai.devtools.platform.store._store import Doc
from viksa_ai.models.executor import AgentInvokeRequest, EndpointExecutionRequest

__all__ = ["router"]

router = PlatformRouter(prefix="/pulse/executor", tags=["pulse"])


def _target(
    platform: Platform, tenant: Tenant, request: AgentInvokeRequest | EndpointExecutionRequest
) -> Target:
    if request.timeout is not None and request.timeout < 1:
        raise unprocessable(
            [detail_item(["body", "timeout"], "timeout is at least 1 second", "greater_than_equal")]
        )
    target = platform.engine.target_for(tenant.caller, request.agent_id, request.endpoint)
    agent_type = target.agent.get("agent_type", "cloud")
    if request.agent_type.value != agent_type:
        raise unprocessable(
            [
                detail_item(
                    ["body", "agent_type"],
                    f"agent {target.agent['agent_alias']!r} is a {agent_type} agent",
                    "value_error.agent_type",
                )
            ]
        )
    queues = (target.agent.get("chrona_queue") or {}).get("chrona_queues") or []
    if agent_type == "secure" and request.task_queue not in queues:
        raise unprocessable(
            [
                detail_item(
                    ["body", "task_queue"],
                    f"task_queue must be one of the agent's queues: {', '.join(queues)}",
                    "value_error.task_queue",
                )
            ]
        )
    return target


def _envelope(request: EndpointExecutionRequest, target: Target) -> dict[str, Any] | None:
    if request.envelope is None:
        return None
    envelope = request.envelope.model_dump(mode="json", exclude_none=True)
    envelope.setdefault("callee_agent", target.agent["agent_alias"])
    envelope["endpoint"] = target.path
    return envelope


async def execute(raw: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc | JsonAnswer:
    """Run an endpoint and answer its EndpointExecutionResponse.

    Failures of the agent (an exception, a timeout, a crash) are answered with their
    ``status`` and ``error``; a request the endpoint cannot take gets 4xx. An endpoint
    with ``requires_approval`` is answered at once, 202 with status ``awaiting_approval``
    and its ``approval_id``: a decision can take longer than any client waits.
    """
    return await _execute(raw, platform, tenant)


async def _execute(raw: dict[str, Any], platform: Platform, tenant: Tenant) -> JsonAnswer:
    request = parse_body(EndpointExecutionRequest, raw)
    target = _target(platform, tenant, request)
    envelope = _envelope(request, target)
    with continue_envelope(request.inputs, envelope, target.path):
        call = await platform.engine.check_inputs(target, request.inputs, envelope)
        record = platform.engine.new_execution(
            target,
            inputs=request.inputs,
            envelope=envelope,
            timeout=request.timeout,
            source="pulse.execute",
            record_when_sent=True,  # the inputs passed the strict JSON edge
        )
        final = await platform.engine.execute(record, target=target, call=call)
    # Answered as a ready JsonAnswer: FastAPI would otherwise walk the whole record
    # through jsonable_encoder first, a cost on the hot path that buys nothing here.
    status = 202 if final["status"] == "awaiting_approval" else 200
    return JsonAnswer(execution_view(final), status_code=status)


async def _execute_directly(request: Request) -> JsonAnswer | None:
    # The hot path: a JSON object body (anything else is FastAPI's to refuse, in its
    # words), then the same dependencies and code as the endpoint.
    raw = await json_object(request)
    if raw is None:
        return None
    platform, tenant = await project_of(request)
    return await _execute(raw, platform, tenant)


router.add_api_route(
    "/execute",
    execute,
    methods=["POST"],
    response_model=None,
    route_class_override=direct_route(_execute_directly),
)


@router.post("/invoke", status_code=202)
async def invoke(raw: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Start an endpoint in the background and answer at once (AgentInvokeResponse)."""
    request = parse_body(AgentInvokeRequest, raw)
    target = _target(platform, tenant, request)
    await platform.engine.check_inputs(target, request.inputs, None)
    record = platform.engine.new_execution(
        target, inputs=request.inputs, envelope=None, timeout=request.timeout, source="pulse.invoke"
    )
    platform.engine.start(record)
    return {
        "status": "accepted" if record["status"] == "running" else record["status"],
        "invocation_id": record["id"],
        "endpoint": target.path,
    }


@router.get("/execution/{execution_id}", response_model=Doc)
async def get_execution(execution_id: str, platform: PlatformDep, tenant: ProjectDep) -> JsonAnswer:
    """An execution by id (for example an invocation's result); local-platform extension."""
    # A JsonAnswer, as every answer holding a result: FastAPI's serializer refuses one
    # nested 250+ levels deep (the store keeps 512), a 500.
    return JsonAnswer(execution_view(platform.engine.execution(tenant.caller, execution_id)))


ExecutionStatus = Literal[
    "running", "awaiting_approval", "completed", "failed", "timeout", "rejected", "cancelled"
]


def _seconds(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    # A time without a zone is taken as UTC, as the platform writes its timestamps.
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


@router.get("/executions", response_model=dict[str, Any])
async def list_executions(
    platform: PlatformDep,
    tenant: ProjectDep,
    page: PageDep,
    agent_id: Annotated[str | None, Query(max_length=256)] = None,
    status: ExecutionStatus | None = None,
    since: Annotated[datetime | None, Query(description="Created at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="Created at or before (ISO 8601)")] = None,
) -> JsonAnswer:
    """The project's executions, newest first; filters by agent, status and creation time.

    Local-platform extension: ``{"executions": [...], "total", "skip", "limit"}``, each
    item shaped as ``GET /pulse/executor/execution/{id}`` answers it.
    """
    which = ExecutionFilter(
        agent_id=agent_id, status=status, since=_seconds(since), until=_seconds(until)
    )
    found = platform.engine.list_executions(tenant.project, which, skip=page.skip, limit=page.limit)
    return JsonAnswer(listing("executions", found, page, view=execution_view))
