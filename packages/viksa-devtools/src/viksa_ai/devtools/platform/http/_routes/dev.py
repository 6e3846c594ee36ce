"""``/_dev``: controls of the local platform itself (fault injection, health)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Query

from viksa_ai.devtools.platform.http._deps import PlatformDep
from viksa_ai.devtools.platform.http._fault_admin import FaultAdminDep
from viksa_ai.devtools.platform.http._faults import FaultSpecError, parse_fault_spec
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.services._errors import detail_item, unprocessable

__all__ = ["router"]

router = PlatformRouter(prefix="/_dev", tags=["local platform"])


@router.get("/health")
async def health() -> dict[str, Any]:
    """Always ``{"status": "ok"}`` while the platform serves."""
    return {"status": "ok"}


_ALL = "every project (the admin's choice), not only the caller's"


@router.get("/faults")
async def list_faults(
    platform: PlatformDep,
    admin: FaultAdminDep,
    all: Annotated[bool, Query(description=_ALL)] = False,
) -> dict[str, Any]:
    """The run-wide faults still armed for the caller's project (or all)."""
    return {"faults": platform.faults.armed(admin.scope(all))}


@router.post("/faults", status_code=201)
async def arm_fault(
    platform: PlatformDep,
    admin: FaultAdminDep,
    spec: Annotated[str, Body(embed=True, description="A fault spec, e.g. status=503;count=2")],
    all: Annotated[bool, Body(embed=True, description=_ALL)] = False,
) -> dict[str, Any]:
    """Arm a run-wide fault (same syntax as the ``X-Viksa-Fault`` header), local admin only."""
    try:
        parsed = parse_fault_spec(spec)
    except FaultSpecError as exc:
        raise unprocessable([detail_item(["body", "spec"], str(exc), "value_error")]) from exc
    project = admin.scope(all)
    platform.faults.arm(parsed, project=project)
    return {"fault": parsed.to_dict(), "faults": platform.faults.armed(project)}


@router.delete("/faults")
async def clear_faults(
    platform: PlatformDep,
    admin: FaultAdminDep,
    all: Annotated[bool, Query(description=_ALL)] = False,
) -> dict[str, Any]:
    """Disarm the run-wide faults of the caller's project (or all)."""
    project = admin.scope(all)
    platform.faults.clear(project)
    return {"faults": platform.faults.armed(project)}
