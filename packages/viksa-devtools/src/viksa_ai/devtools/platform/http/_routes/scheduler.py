"""``/scheduler/schedule``: schedules that run a workflow or an endpoint (see ``Scheduler``)."""

from __future__ import annotations

from typing import Any

from viksa_ai.devtools.platform.http._bodies import JsonBody
from viksa_ai.devtools.platform.http._deps import PageDep, PlatformDep, ProjectDep
from viksa_ai.devtools.platform.http._listing import listing
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["router"]

router = PlatformRouter(prefix="/scheduler/schedule", tags=["scheduler"])


@router.post("/create", status_code=201)
async def create_schedule(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A new ``active`` schedule."""
    return platform.scheduler.create(tenant.caller, body)


@router.get("/list")
async def list_schedules(platform: PlatformDep, tenant: ProjectDep, page: PageDep) -> Doc:
    """One page of the project's schedules."""
    found = platform.scheduler.page(tenant.project, skip=page.skip, limit=page.limit)
    return listing("schedules", found, page)


@router.get("/{schedule_id}")
async def get_schedule(schedule_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One schedule."""
    return platform.scheduler.get(tenant.caller, schedule_id)


@router.patch("/{schedule_id}")
async def update_schedule(
    schedule_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change a schedule's target or timing (not its state: use pause/resume)."""
    return platform.scheduler.update(tenant.caller, schedule_id, body)


@router.delete("/{schedule_id}")
async def delete_schedule(schedule_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete a schedule."""
    platform.scheduler.delete(tenant.caller, schedule_id)
    return {"id": schedule_id, "deleted": True}


@router.post("/{schedule_id}/pause")
async def pause(schedule_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """active -> paused."""
    return platform.scheduler.move(tenant.caller, schedule_id, "active", "paused")


@router.post("/{schedule_id}/resume")
async def resume(schedule_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """paused -> active."""
    return platform.scheduler.move(tenant.caller, schedule_id, "paused", "active")


@router.post("/{schedule_id}/run-now")
async def run_now(schedule_id: str, platform: PlatformDep, tenant: ProjectDep) -> dict[str, Any]:
    """Run the schedule's target once, now (paused or not)."""
    return await platform.scheduler.run_now(tenant.caller, schedule_id)
