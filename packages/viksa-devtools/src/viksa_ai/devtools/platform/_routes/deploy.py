"""``/builder/builder/`` and ``/builder/deploy/``: the build and deploy state machine."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from viksa_ai.devtools.platform._agents import manifest_of
from viksa_ai.devtools.platform._bodies import JsonBody, required_id
from viksa_ai.devtools.platform._clock import now_iso
from viksa_ai.devtools.platform._deps import PlatformDep, ProjectDep, Tenant, owned
from viksa_ai.devtools.platform._errors import conflict, unprocessable
from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform._security import new_id
from viksa_ai.devtools.platform._store import Doc
from viksa_ai.devtools.platform._strict_route import StrictJsonRoute
from viksa_ai.devtools.platform._validation import manifest_issues
from viksa_ai.devtools.platform._vault import AUTH_METHODS_FIELD, auth_binding_issues

__all__ = ["router"]

router = APIRouter(route_class=StrictJsonRoute, prefix="/builder", tags=["deploy"])


def _agent(platform: Platform, body: dict[str, Any], tenant: Tenant) -> Doc:
    return owned(platform, "agent", "Agent", required_id(body, "agent_id"), tenant)


@router.post("/builder/")
async def build(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Build an agent's current revision; an invalid agent fails with 422 and its issues."""
    agent = _agent(platform, body, tenant)
    limit = platform.config.validation_time_limit
    issues = await manifest_issues(manifest_of(agent), time_limit=limit) + auth_binding_issues(
        agent.get(AUTH_METHODS_FIELD), platform.store, tenant.project
    )
    record = {
        "build_id": new_id("bld"),
        "agent_id": agent["id"],
        "revision": agent["revision"],
        "status": "failed" if issues else "built",
        "started_at": now_iso(),
        "finished_at": now_iso(),
        "issues": issues,
    }
    agent["last_build"] = record
    agent["build_status"] = record["status"]
    agent["built_revision"] = None if issues else agent["revision"]
    platform.store.save("agent", agent)
    if issues:
        raise unprocessable(issues)
    return {**record, "build_status": agent["build_status"]}


@router.post("/deploy/")
async def deploy(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Deploy the revision last built; 409 unless the current revision is built."""
    agent = _agent(platform, body, tenant)
    if agent["build_status"] != "built" or agent["built_revision"] != agent["revision"]:
        raise conflict(
            f"Agent {agent['id']!r} is {agent['build_status'].replace('_', ' ')} at revision "
            f"{agent['revision']}: build it (deploy.build) before deploying.",
            code="not_built",
        )
    deployment = {
        "id": agent["id"],
        "deployment_id": new_id("dep"),
        "agent_id": agent["id"],
        "agent_alias": agent["agent_alias"],
        "revision": agent["revision"],
        "deployed_at": now_iso(),
        "reconciled_at": None,
        "manifest": manifest_of(agent),
    }
    with platform.store.transaction():
        platform.store.delete("deployment", agent["id"])
        platform.store.insert("deployment", deployment, scope=tenant.project)
        agent["deploy_status"] = "deployed"
        agent["deployed_revision"] = agent["revision"]
        agent["deployed_at"] = deployment["deployed_at"]
        platform.store.save("agent", agent)
    await platform.engine.forget(agent["id"])
    return _summary(deployment, "deployed")


@router.post("/deploy/reconcile")
async def reconcile(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Re-read a deployed agent's config (auth bindings, execution configs) without a build."""
    agent = _agent(platform, body, tenant)
    deployment = platform.store.get("deployment", agent["id"])
    if deployment is None:
        raise conflict(
            f"Agent {agent['id']!r} is not deployed: deploy it before reconciling.",
            code="not_deployed",
        )
    manifest = deployment["manifest"]
    changes = []
    if manifest.get(AUTH_METHODS_FIELD) != agent.get(AUTH_METHODS_FIELD):
        manifest[AUTH_METHODS_FIELD] = agent.get(AUTH_METHODS_FIELD)
        changes.append(AUTH_METHODS_FIELD)
    configs = {e["name"]: e.get("execution_config") for e in agent["agent_endpoints"]}
    for endpoint in manifest["agent_endpoints"]:
        if (
            endpoint["name"] in configs
            and endpoint.get("execution_config") != configs[endpoint["name"]]
        ):
            endpoint["execution_config"] = configs[endpoint["name"]]
            changes.append(f"agent_endpoints.{endpoint['name']}.execution_config")
    deployment["reconciled_at"] = now_iso()
    platform.store.save("deployment", deployment)
    await platform.engine.forget(agent["id"])
    return {**_summary(deployment, "reconciled"), "changes": changes}


def _summary(deployment: Doc, status: str) -> Doc:
    return {
        "status": status,
        "deployment_id": deployment["deployment_id"],
        "agent_id": deployment["agent_id"],
        "revision": deployment["revision"],
        "deployed_at": deployment["deployed_at"],
        "endpoints": [e["endpoint"] for e in deployment["manifest"]["agent_endpoints"]],
    }
