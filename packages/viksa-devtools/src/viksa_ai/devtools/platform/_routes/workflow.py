"""``/workflow``: workflows and their executions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from viksa_ai.devtools.platform._answers import JsonAnswer
from viksa_ai.devtools.platform._bodies import JsonBody, OptionalJsonBody, required_id
from viksa_ai.devtools.platform._clock import now_iso
from viksa_ai.devtools.platform._deps import PageDep, PlatformDep, ProjectDep, Tenant, owned
from viksa_ai.devtools.platform._errors import conflict, detail_item, unprocessable
from viksa_ai.devtools.platform._listing import listing
from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform._security import new_id
from viksa_ai.devtools.platform._store import Doc
from viksa_ai.devtools.platform._strict_route import StrictJsonRoute
from viksa_ai.devtools.platform._workflows import KIND

__all__ = ["router"]

router = APIRouter(route_class=StrictJsonRoute, prefix="/workflow", tags=["workflow"])
_FIXED = frozenset({"id", "created_at", "updated_at"})


def _steps(platform: Platform, tenant: Tenant, steps: Any) -> list[Doc]:
    if not isinstance(steps, list):
        raise unprocessable([detail_item(["body", "steps"], "steps must be a list", "list_type")])
    checked = []
    for index, step in enumerate(steps):
        loc: list[str | int] = ["body", "steps", index]
        if not isinstance(step, dict) or not isinstance(step.get("agent_id"), str):
            raise unprocessable([detail_item([*loc, "agent_id"], "Field required", "missing")])
        agent = owned(platform, "agent", "Agent", step["agent_id"], tenant)
        paths = {e["endpoint"] for e in agent["agent_endpoints"]}
        if step.get("endpoint") not in paths:
            raise unprocessable(
                [
                    detail_item(
                        [*loc, "endpoint"],
                        f"endpoint must be one of: {', '.join(sorted(paths))}",
                        "value_error.endpoint",
                    )
                ]
            )
        checked.append({"id": step.get("id") or f"step_{index + 1}", "inputs": {}, **step})
    return checked


def _workflow(platform: Platform, tenant: Tenant, workflow_id: str) -> Doc:
    return owned(platform, "workflow", "Workflow", workflow_id, tenant)


def _execution(platform: Platform, tenant: Tenant, execution_id: str) -> Doc:
    return owned(platform, KIND, "Workflow execution", execution_id, tenant)


@router.post("/create", status_code=201)
async def create_workflow(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A new workflow: ``name`` and ``steps`` (each an ``agent_id``, ``endpoint``, ``inputs``).

    Local-platform extension: the hosted platform creates workflows from its UI.
    """
    now = now_iso()
    workflow = {
        "name": "workflow",
        **{k: v for k, v in body.items() if k not in _FIXED},
        "id": new_id("wfl"),
        "steps": _steps(platform, tenant, body.get("steps", [])),
        "status": "active",
        "created_at": now,
        "updated_at": now,
    }
    return platform.store.insert("workflow", workflow, scope=tenant.project)


@router.post("/start")
async def start_workflow(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Start a new execution of a workflow in the background."""
    workflow = _workflow(platform, tenant, required_id(body, "workflow_id"))
    execution = platform.workflows.create(
        workflow, tenant.project, trigger_source=body.get("trigger_source")
    )
    return platform.workflows.begin(execution["id"], ("created",))


@router.get("/id/{workflow_id}")
async def get_workflow(workflow_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One workflow."""
    return _workflow(platform, tenant, workflow_id)


@router.patch("/id/{workflow_id}")
async def patch_workflow(
    workflow_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change a workflow's fields (steps are checked again)."""
    workflow = _workflow(platform, tenant, workflow_id)
    workflow.update({k: v for k, v in body.items() if k not in _FIXED})
    if "steps" in body:
        workflow["steps"] = _steps(platform, tenant, body["steps"])
    workflow["updated_at"] = now_iso()
    return platform.store.save("workflow", workflow)


@router.get("/list")
async def list_workflows(platform: PlatformDep, tenant: ProjectDep, page: PageDep) -> Doc:
    """One page of the project's workflows."""
    found = platform.store.query("workflow", scope=tenant.project, skip=page.skip, limit=page.limit)
    return listing("workflows", found, page)


@router.get("/related/{workflow_id}")
async def related(workflow_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """The executions and schedules of a workflow."""
    _workflow(platform, tenant, workflow_id)
    where = {"workflow_id": workflow_id}
    return {
        "workflow_id": workflow_id,
        "executions": platform.store.query(KIND, scope=tenant.project, where=where)[0],
        "schedules": platform.store.query("schedule", scope=tenant.project, where=where)[0],
    }


@router.post("/clone", status_code=201)
async def clone_workflow(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A copy of a workflow (``workflow_id``, optional new ``name``)."""
    source = _workflow(platform, tenant, required_id(body, "workflow_id"))
    now = now_iso()
    clone = {
        **source,
        "id": new_id("wfl"),
        "name": body.get("name") or f"{source['name']} (copy)",
        "cloned_from": source["id"],
        "created_at": now,
        "updated_at": now,
    }
    return platform.store.insert("workflow", clone, scope=tenant.project)


@router.post("/rerun")
async def rerun(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A new execution of the workflow of ``execution_id``, started at once."""
    previous = _execution(platform, tenant, required_id(body, "execution_id"))
    workflow = _workflow(platform, tenant, previous["workflow_id"])
    execution = platform.workflows.create(workflow, tenant.project, rerun_of=previous["id"])
    return platform.workflows.begin(execution["id"], ("created",))


@router.delete("/{workflow_id}")
async def delete_workflow(workflow_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete a workflow (its past executions stay)."""
    _workflow(platform, tenant, workflow_id)
    platform.store.delete("workflow", workflow_id)
    return {"id": workflow_id, "deleted": True}


def _needs_approval(platform: Platform, tenant: Tenant, workflow: Doc) -> bool:
    for step in workflow.get("steps", []):
        try:
            target = platform.engine.target(tenant.project, step["agent_id"], step["endpoint"])
        except HTTPException:
            continue  # the run fails this step and says why
        if target.requires_approval:
            return True
    return False


@router.post("/{workflow_id}/execute", response_model=None)
async def execute_workflow(
    workflow_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> Doc | JsonAnswer:
    """Run a workflow to its end and answer the finished execution.

    A workflow with a step that needs an approval is started in the background and
    answered at once (202, ``running``), as ``pulse.execute`` does: a decision can take
    longer than any client waits.
    """
    workflow = _workflow(platform, tenant, workflow_id)
    context: dict[str, Any] = {"trigger_source": (body or {}).get("trigger_source", "execute")}
    execution = platform.workflows.create(workflow, tenant.project, **context)
    if _needs_approval(platform, tenant, workflow):
        return JsonAnswer(platform.workflows.begin(execution["id"], ("created",)), status_code=202)

    def start(doc: Doc) -> None:
        doc.update(status="running", started_at=now_iso())

    platform.workflows.update(execution["id"], start)
    return await platform.workflows.run(execution["id"])


# -- executions -------------------------------------------------------------------------


@router.post("/execution/create", status_code=201)
async def create_execution(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A ``created`` execution of a workflow (start it with ``start``)."""
    workflow = _workflow(platform, tenant, required_id(body, "workflow_id"))
    schedule_id = None
    if body.get("schedule_id") is not None:
        # Like every other reference: 404 when the schedule is not the project's.
        schedule_id = required_id(body, "schedule_id")
        owned(platform, "schedule", "Schedule", schedule_id, tenant)
    return platform.workflows.create(workflow, tenant.project, schedule_id=schedule_id)


@router.get("/execution/list")
async def list_executions(platform: PlatformDep, tenant: ProjectDep, page: PageDep) -> Doc:
    """One page of the project's workflow executions, most recent first."""
    found = platform.store.query(
        KIND, scope=tenant.project, skip=page.skip, limit=page.limit, newest_first=True
    )
    return listing("executions", found, page)


@router.get("/execution/workflow/{workflow_id}/list")
async def list_for_workflow(
    workflow_id: str, platform: PlatformDep, tenant: ProjectDep, page: PageDep
) -> Doc:
    """One page of one workflow's executions, most recent first."""
    _workflow(platform, tenant, workflow_id)
    found = platform.store.query(
        KIND,
        scope=tenant.project,
        where={"workflow_id": workflow_id},
        skip=page.skip,
        limit=page.limit,
        newest_first=True,
    )
    return listing("executions", found, page)


@router.get("/execution/{execution_id}")
async def get_execution(execution_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One workflow execution with its tasks."""
    return _execution(platform, tenant, execution_id)


@router.post("/execution/{execution_id}/start")
async def start_execution(execution_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """created -> running."""
    _execution(platform, tenant, execution_id)
    return platform.workflows.begin(execution_id, ("created",))


@router.post("/execution/{execution_id}/retry")
async def retry_execution(execution_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """failed, cancelled or stopped -> running, from the first unfinished task."""
    execution = _execution(platform, tenant, execution_id)
    return platform.workflows.begin(execution["id"], ("failed", "cancelled", "stopped"), "retried")


def _halt(platform: Platform, execution_id: str, to: str, allowed: tuple[str, ...]) -> Doc:
    def change(doc: Doc) -> None:
        if doc["status"] not in allowed:
            raise conflict(
                f"Workflow execution {doc['id']!r} is {doc['status']}: only "
                f"{' or '.join(allowed)} executions can be {to}.",
                code="invalid_transition",
            )
        doc.update(status=to, finished_at=now_iso())

    return platform.workflows.update(execution_id, change)


@router.post("/execution/{execution_id}/cancel")
async def cancel_execution(execution_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """created or running -> cancelled."""
    _execution(platform, tenant, execution_id)
    return _halt(platform, execution_id, "cancelled", ("created", "running"))


@router.post("/execution/{execution_id}/stop")
async def stop_execution(execution_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """running -> stopped."""
    _execution(platform, tenant, execution_id)
    return _halt(platform, execution_id, "stopped", ("running",))


@router.delete("/execution/{execution_id}")
async def delete_execution(execution_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete an execution that is not running."""
    execution = _execution(platform, tenant, execution_id)
    if execution["status"] == "running":
        raise conflict("Stop or cancel a running execution before deleting it.", code="running")
    platform.store.delete(KIND, execution_id)
    return {"id": execution_id, "deleted": True}


@router.patch("/execution/{execution_id}/tasks")
async def patch_tasks(
    execution_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change the inputs of tasks not yet completed (``{"tasks": [{step_id, inputs}]}``)."""
    _execution(platform, tenant, execution_id)
    changes = body.get("tasks")
    if not isinstance(changes, list) or not all(
        isinstance(c, dict) and isinstance(c.get("step_id"), str) for c in changes
    ):
        raise unprocessable(
            [detail_item(["body", "tasks"], "send a list of {step_id, inputs}", "list_type")]
        )

    def change(doc: Doc) -> None:
        if doc["status"] == "running":
            raise conflict("Tasks cannot change while the execution runs.", code="running")
        by_step = {t["step_id"]: t for t in doc["tasks"]}
        for item in changes:
            task = by_step.get(item["step_id"])
            if task is None:
                raise unprocessable(
                    [detail_item(["body", "tasks"], f"no step {item['step_id']!r}", "value_error")]
                )
            if isinstance(item.get("inputs"), dict):
                task["inputs"] = item["inputs"]

    return platform.workflows.update(execution_id, change)
