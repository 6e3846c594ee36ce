"""``/builder/builder/`` and ``/builder/deploy/``: the build and deploy state machine."""

from __future__ import annotations

from viksa_ai.devtools.platform.http._bodies import JsonBody, required_id
from viksa_ai.devtools.platform.http._deps import PlatformDep, ProjectDep
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["router"]

router = PlatformRouter(prefix="/builder", tags=["deploy"])


@router.post("/builder/")
async def build(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Build an agent's current revision; an invalid agent fails with 422 and its issues."""
    return await platform.deployments.build(tenant.caller, required_id(body, "agent_id"))


@router.post("/deploy/")
async def deploy(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Deploy the revision last built; 409 unless the current revision is built."""
    return await platform.deployments.deploy(tenant.caller, required_id(body, "agent_id"))


@router.post("/deploy/reconcile")
async def reconcile(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Re-read a deployed agent's config (auth bindings, execution configs) without a build."""
    return await platform.deployments.reconcile(tenant.caller, required_id(body, "agent_id"))
