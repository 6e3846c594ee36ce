"""``/_dev``: controls of the local platform itself (fault injection, health)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from viksa_ai.devtools.platform._deps import PlatformDep, PrincipalDep
from viksa_ai.devtools.platform._errors import detail_item, unprocessable
from viksa_ai.devtools.platform._faults import FaultSpecError, parse_fault_spec
from viksa_ai.devtools.platform._strict_route import StrictJsonRoute

__all__ = ["router"]

router = APIRouter(route_class=StrictJsonRoute, prefix="/_dev", tags=["local platform"])


@router.get("/health")
async def health() -> dict[str, Any]:
    """Always ``{"status": "ok"}`` while the platform serves."""
    return {"status": "ok"}


@router.get("/faults")
async def list_faults(platform: PlatformDep, _: PrincipalDep) -> dict[str, Any]:
    """The run-wide faults still armed."""
    return {"faults": platform.faults.armed()}


@router.post("/faults", status_code=201)
async def arm_fault(
    platform: PlatformDep,
    _: PrincipalDep,
    spec: Annotated[str, Body(embed=True, description="A fault spec, e.g. status=503;count=2")],
) -> dict[str, Any]:
    """Arm a run-wide fault (same syntax as the ``X-Viksa-Fault`` header)."""
    try:
        parsed = parse_fault_spec(spec)
    except FaultSpecError as exc:
        raise unprocessable([detail_item(["body", "spec"], str(exc), "value_error")]) from exc
    platform.faults.arm(parsed)
    return {"fault": parsed.to_dict(), "faults": platform.faults.armed()}


@router.delete("/faults")
async def clear_faults(platform: PlatformDep, _: PrincipalDep) -> dict[str, Any]:
    """Disarm every run-wide fault."""
    platform.faults.clear()
    return {"faults": []}
