"""``/scheduler/schedule``: schedules that run a workflow or an endpoint.

A schedule names a ``workflow_id``, or an ``agent_id`` + ``endpoint`` (+ ``inputs``),
and when to run: ``interval_seconds`` (run by the platform's clock while it is
served) or a ``cron`` expression (stored for the hosted platform; the local one runs
such schedules only through ``run_now``). States: ``active`` <-> ``paused``.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter

from viksa_ai.devtools.platform._bodies import JsonBody
from viksa_ai.devtools.platform._clock import iso_at, now_iso
from viksa_ai.devtools.platform._deps import PageDep, PlatformDep, ProjectDep, Tenant, owned
from viksa_ai.devtools.platform._errors import conflict, detail_item, unprocessable
from viksa_ai.devtools.platform._listing import listing
from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform._security import new_id
from viksa_ai.devtools.platform._store import Doc
from viksa_ai.devtools.platform._strict_route import StrictJsonRoute

__all__ = ["router"]

router = APIRouter(route_class=StrictJsonRoute, prefix="/scheduler/schedule", tags=["scheduler"])
# One year: a longer interval never comes round while `viksa dev` runs, and a huge one
# (1e300) would overflow the clock when the next run is computed.
MAX_INTERVAL_SECONDS = 366 * 24 * 3600
_FIXED = frozenset({"id", "status", "created_at", "updated_at", "run_count", "last_run_at"})


def _check(platform: Platform, tenant: Tenant, schedule: Doc) -> None:
    if isinstance(schedule.get("workflow_id"), str):
        owned(platform, "workflow", "Workflow", schedule["workflow_id"], tenant)
    elif isinstance(schedule.get("agent_id"), str) and isinstance(schedule.get("endpoint"), str):
        owned(platform, "agent", "Agent", schedule["agent_id"], tenant)
    else:
        raise unprocessable(
            [detail_item(["body"], "name a workflow_id, or an agent_id and an endpoint", "missing")]
        )
    interval = schedule.get("interval_seconds")
    # A bool is an int to Python: ``true`` would silently mean every second.
    number = isinstance(interval, (int, float)) and not isinstance(interval, bool)
    if interval is not None and (not number or not 1 <= interval <= MAX_INTERVAL_SECONDS):
        message = f"a number of seconds from 1 to {MAX_INTERVAL_SECONDS} (366 days)"
        raise unprocessable([detail_item(["body", "interval_seconds"], message, "value_error")])
    schedule["next_run_at"] = (
        iso_at(time.time() + interval) if interval and schedule.get("status") == "active" else None
    )


@router.post("/create", status_code=201)
async def create_schedule(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A new ``active`` schedule."""
    now = now_iso()
    schedule = {
        "name": "schedule",
        **{k: v for k, v in body.items() if k not in _FIXED},
        "id": new_id("sch"),
        "status": "active",
        "created_at": now,
        "updated_at": now,
        "run_count": 0,
        "last_run_at": None,
    }
    _check(platform, tenant, schedule)
    return platform.store.insert("schedule", schedule, scope=tenant.project)


@router.get("/list")
async def list_schedules(platform: PlatformDep, tenant: ProjectDep, page: PageDep) -> Doc:
    """One page of the project's schedules."""
    found = platform.store.query("schedule", scope=tenant.project, skip=page.skip, limit=page.limit)
    return listing("schedules", found, page)


@router.get("/{schedule_id}")
async def get_schedule(schedule_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One schedule."""
    return owned(platform, "schedule", "Schedule", schedule_id, tenant)


@router.patch("/{schedule_id}")
async def update_schedule(
    schedule_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change a schedule's target or timing (not its state: use pause/resume)."""
    schedule = owned(platform, "schedule", "Schedule", schedule_id, tenant)
    schedule.update({k: v for k, v in body.items() if k not in _FIXED})
    _check(platform, tenant, schedule)
    schedule["updated_at"] = now_iso()
    return platform.store.save("schedule", schedule)


@router.delete("/{schedule_id}")
async def delete_schedule(schedule_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete a schedule."""
    owned(platform, "schedule", "Schedule", schedule_id, tenant)
    platform.store.delete("schedule", schedule_id)
    return {"id": schedule_id, "deleted": True}


def _move(platform: Platform, tenant: Tenant, schedule_id: str, frm: str, to: str) -> Doc:
    schedule = owned(platform, "schedule", "Schedule", schedule_id, tenant)
    if schedule["status"] != frm:
        raise conflict(
            f"Schedule {schedule_id!r} is {schedule['status']}, not {frm}.",
            code="invalid_transition",
        )
    schedule["status"] = to
    interval = schedule.get("interval_seconds")
    schedule["next_run_at"] = (
        iso_at(time.time() + interval) if interval and to == "active" else None
    )
    schedule["updated_at"] = now_iso()
    return platform.store.save("schedule", schedule)


@router.post("/{schedule_id}/pause")
async def pause(schedule_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """active -> paused."""
    return _move(platform, tenant, schedule_id, "active", "paused")


@router.post("/{schedule_id}/resume")
async def resume(schedule_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """paused -> active."""
    return _move(platform, tenant, schedule_id, "paused", "active")


@router.post("/{schedule_id}/run-now")
async def run_now(schedule_id: str, platform: PlatformDep, tenant: ProjectDep) -> dict[str, Any]:
    """Run the schedule's target once, now (paused or not)."""
    schedule = owned(platform, "schedule", "Schedule", schedule_id, tenant)
    run = platform.run_schedule(schedule)
    return {"schedule_id": schedule_id, "run": run, "run_count": schedule["run_count"]}
