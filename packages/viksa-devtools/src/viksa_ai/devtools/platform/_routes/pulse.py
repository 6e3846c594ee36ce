"""``/pulse/executor``: run deployed endpoints now (execute) or in the background (invoke)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from viksa_ai.devtools.platform._answers import JsonAnswer
from viksa_ai.devtools.platform._bodies import JsonBody, parse_body
from viksa_ai.devtools.platform._deps import PlatformDep, ProjectDep, Tenant, owned
from viksa_ai.devtools.platform._engine import Target, execution_view
from viksa_ai.devtools.platform._errors import detail_item, unprocessable
from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform._store import Doc
from viksa_ai.devtools.platform._strict_route import StrictJsonRoute
from viksa_ai.models.executor import AgentInvokeRequest, EndpointExecutionRequest

__all__ = ["router"]

router = APIRouter(route_class=StrictJsonRoute, prefix="/pulse/executor", tags=["pulse"])


def _target(
    platform: Platform, tenant: Tenant, request: AgentInvokeRequest | EndpointExecutionRequest
) -> Target:
    if request.timeout is not None and request.timeout < 1:
        raise unprocessable(
            [detail_item(["body", "timeout"], "timeout is at least 1 second", "greater_than_equal")]
        )
    try:
        target = platform.engine.target(tenant.project, request.agent_id, request.endpoint)
    except HTTPException as exc:
        if exc.status_code == 404:
            # As on every route naming a record: 403 when another account's. Looked up
            # only here, off the hot path of a call that finds its agent.
            owned(platform, "agent", "Agent", request.agent_id, tenant)
        raise
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


@router.post("/execute", response_model=None)
async def execute(raw: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc | JsonAnswer:
    """Run an endpoint and answer its EndpointExecutionResponse.

    Failures of the agent (an exception, a timeout, a crash) are answered with their
    ``status`` and ``error``; a request the endpoint cannot take gets 4xx. An endpoint
    with ``requires_approval`` is answered at once, 202 with status ``awaiting_approval``
    and its ``approval_id``: a decision can take longer than any client waits.
    """
    request = parse_body(EndpointExecutionRequest, raw)
    target = _target(platform, tenant, request)
    envelope = _envelope(request, target)
    call = platform.engine.check_inputs(target, request.inputs, envelope)
    record = platform.engine.new_execution(
        target,
        inputs=request.inputs,
        envelope=envelope,
        timeout=request.timeout,
        source="pulse.execute",
    )
    final = await platform.engine.execute(record, target=target, call=call)
    if final["status"] == "awaiting_approval":
        return JsonAnswer(execution_view(final), status_code=202)
    return execution_view(final)


@router.post("/invoke", status_code=202)
async def invoke(raw: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Start an endpoint in the background and answer at once (AgentInvokeResponse)."""
    request = parse_body(AgentInvokeRequest, raw)
    target = _target(platform, tenant, request)
    platform.engine.check_inputs(target, request.inputs, None)
    record = platform.engine.new_execution(
        target, inputs=request.inputs, envelope=None, timeout=request.timeout, source="pulse.invoke"
    )
    platform.engine.start(record)
    return {
        "status": "accepted" if record["status"] == "running" else record["status"],
        "invocation_id": record["id"],
        "endpoint": target.path,
    }


@router.get("/execution/{execution_id}")
async def get_execution(execution_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """An execution by id (for example an invocation's result); local-platform extension."""
    return execution_view(owned(platform, "execution", "Execution", execution_id, tenant))
