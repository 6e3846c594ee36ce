"""``/workflow``: workflows and their executions (see ``services/_workflows``)."""

from __future__ import annotations

from viksa_ai.devtools.platform.http._answers import JsonAnswer
from viksa_ai.devtools.platform.http._bodies import JsonBody, OptionalJsonBody, required_id
from viksa_ai.devtools.platform.http._deps import PageDep, PlatformDep, ProjectDep
from viksa_ai.devtools.platform.http._listing import listing
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["router"]

router = PlatformRouter(prefix="/workflow", tags=["workflow"])


@router.post("/create", status_code=201)
async def create_workflow(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A new workflow: ``name`` and ``steps`` (each an ``agent_id``, ``endpoint``, ``inputs``).

    Local-platform extension: the hosted platform creates workflows from its UI.
    """
    return platform.workflows.create_workflow(tenant.caller, body)


@router.post("/start", response_model=Doc)
async def start_workflow(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> JsonAnswer:
    """Start a new execution of a workflow in the background."""
    workflow_id = required_id(body, "workflow_id")
    return JsonAnswer(
        platform.workflows.start_new(
            tenant.caller, workflow_id, trigger_source=body.get("trigger_source")
        )
    )


@router.get("/id/{workflow_id}")
async def get_workflow(workflow_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One workflow."""
    return platform.workflows.workflow(tenant.caller, workflow_id)


@router.patch("/id/{workflow_id}")
async def patch_workflow(
    workflow_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change a workflow's fields (steps are checked again)."""
    return platform.workflows.patch_workflow(tenant.caller, workflow_id, body)


@router.get("/list")
async def list_workflows(platform: PlatformDep, tenant: ProjectDep, page: PageDep) -> Doc:
    """One page of the project's workflows."""
    found = platform.workflows.page_workflows(tenant.project, skip=page.skip, limit=page.limit)
    return listing("workflows", found, page)


@router.get("/related/{workflow_id}", response_model=Doc)
async def related(workflow_id: str, platform: PlatformDep, tenant: ProjectDep) -> JsonAnswer:
    """The executions and schedules of a workflow."""
    return JsonAnswer(platform.workflows.related(tenant.caller, workflow_id))


@router.post("/clone", status_code=201)
async def clone_workflow(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A copy of a workflow (``workflow_id``, optional new ``name``)."""
    workflow_id = required_id(body, "workflow_id")
    return platform.workflows.clone(tenant.caller, workflow_id, body.get("name"))


@router.post("/rerun", response_model=Doc)
async def rerun(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> JsonAnswer:
    """A new execution of the workflow of ``execution_id``, started at once."""
    return JsonAnswer(platform.workflows.rerun(tenant.caller, required_id(body, "execution_id")))


@router.delete("/{workflow_id}")
async def delete_workflow(workflow_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete a workflow (its past executions stay)."""
    platform.workflows.delete_workflow(tenant.caller, workflow_id)
    return {"id": workflow_id, "deleted": True}


@router.post("/{workflow_id}/execute", response_model=None)
async def execute_workflow(
    workflow_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> Doc | JsonAnswer:
    """Run a workflow to its end and answer the finished execution.

    A workflow with a step that needs an approval is started in the background and
    answered at once (202, ``running``), as ``pulse.execute`` does: a decision can take
    longer than any client waits.
    """
    source = (body or {}).get("trigger_source", "execute")
    execution, waiting = await platform.workflows.execute(tenant.caller, workflow_id, source)
    return JsonAnswer(execution, status_code=202) if waiting else execution


# -- executions -------------------------------------------------------------------------


@router.post("/execution/create", status_code=201)
async def create_execution(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A ``created`` execution of a workflow (start it with ``start``)."""
    workflow_id = required_id(body, "workflow_id")
    return platform.workflows.create_execution(tenant.caller, workflow_id, body)


@router.get("/execution/list", response_model=Doc)
async def list_executions(platform: PlatformDep, tenant: ProjectDep, page: PageDep) -> JsonAnswer:
    """One page of the project's workflow executions, most recent first."""
    found = platform.workflows.page_executions(
        tenant.caller, None, skip=page.skip, limit=page.limit
    )
    return JsonAnswer(listing("executions", found, page))


@router.get("/execution/workflow/{workflow_id}/list", response_model=Doc)
async def list_for_workflow(
    workflow_id: str, platform: PlatformDep, tenant: ProjectDep, page: PageDep
) -> JsonAnswer:
    """One page of one workflow's executions, most recent first."""
    found = platform.workflows.page_executions(
        tenant.caller, workflow_id, skip=page.skip, limit=page.limit
    )
    return JsonAnswer(listing("executions", found, page))


@router.get("/execution/{execution_id}", response_model=Doc)
async def get_execution(execution_id: str, platform: PlatformDep, tenant: ProjectDep) -> JsonAnswer:
    """One workflow execution with its tasks."""
    return JsonAnswer(platform.workflows.execution(tenant.caller, execution_id))


@router.post("/execution/{execution_id}/start", response_model=Doc)
async def start_execution(
    execution_id: str, platform: PlatformDep, tenant: ProjectDep
) -> JsonAnswer:
    """created -> running."""
    platform.workflows.execution(tenant.caller, execution_id)
    return JsonAnswer(platform.workflows.begin(execution_id, ("created",)))


@router.post("/execution/{execution_id}/retry", response_model=Doc)
async def retry_execution(
    execution_id: str, platform: PlatformDep, tenant: ProjectDep
) -> JsonAnswer:
    """failed, cancelled or stopped -> running, from the first unfinished task."""
    platform.workflows.execution(tenant.caller, execution_id)
    return JsonAnswer(
        platform.workflows.begin(execution_id, ("failed", "cancelled", "stopped"), "retried")
    )


@router.post("/execution/{execution_id}/cancel", response_model=Doc)
async def cancel_execution(
    execution_id: str, platform: PlatformDep, tenant: ProjectDep
) -> JsonAnswer:
    """created or running -> cancelled."""
    return JsonAnswer(
        platform.workflows.halt(tenant.caller, execution_id, "cancelled", ("created", "running"))
    )


@router.post("/execution/{execution_id}/stop", response_model=Doc)
async def stop_execution(
    execution_id: str, platform: PlatformDep, tenant: ProjectDep
) -> JsonAnswer:
    """running -> stopped."""
    return JsonAnswer(platform.workflows.halt(tenant.caller, execution_id, "stopped", ("running",)))


@router.delete("/execution/{execution_id}")
async def delete_execution(execution_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete an execution that is not running."""
    platform.workflows.delete_execution(tenant.caller, execution_id)
    return {"id": execution_id, "deleted": True}


@router.patch("/execution/{execution_id}/tasks", response_model=Doc)
async def patch_tasks(
    execution_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> JsonAnswer:
    """Change the inputs of tasks not yet completed (``{"tasks": [{step_id, inputs}]}``)."""
    return JsonAnswer(
        platform.workflows.patch_tasks(tenant.caller, execution_id, body.get("tasks"))
    )
