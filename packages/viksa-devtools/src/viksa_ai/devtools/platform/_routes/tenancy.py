"""``/org`` and ``/project``: the orgs and projects an account owns."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from viksa_ai.devtools.platform._bodies import JsonBody
from viksa_ai.devtools.platform._clock import now_iso
from viksa_ai.devtools.platform._deps import PlatformDep, PrincipalDep
from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform._store import Doc

__all__ = ["orgs", "projects"]

orgs = APIRouter(prefix="/org", tags=["orgs"])
projects = APIRouter(prefix="/project", tags=["projects"])

_FIXED = frozenset({"id", "account_id", "org_id", "created_at"})


def _patched(doc: Doc, body: dict[str, Any]) -> Doc:
    return {**doc, **{k: v for k, v in body.items() if k not in _FIXED}, "updated_at": now_iso()}


def _delete_project(platform: Platform, project_id: str) -> None:
    with platform.store.transaction():
        platform.store.delete_scope(project_id)
        for key in platform.store.query("key", where={"project_id": project_id})[0]:
            platform.store.delete("key", key["id"])
        platform.store.delete("project", project_id)


@orgs.get("/list")
async def list_orgs(platform: PlatformDep, principal: PrincipalDep) -> list[Doc]:
    """Every org of the caller's account."""
    return platform.store.query("org", scope=principal.account_id)[0]


@orgs.post("/create", status_code=201)
async def create_org(platform: PlatformDep, principal: PrincipalDep, body: JsonBody) -> Doc:
    """A new org in the caller's account."""
    return platform.accounts.create_org(principal.account_id, body)


@orgs.get("/{org_id}")
async def get_org(org_id: str, platform: PlatformDep, principal: PrincipalDep) -> Doc:
    """One org of the caller's account."""
    return platform.accounts.owned_org(principal.account_id, org_id)


@orgs.put("/{org_id}")
async def update_org(
    org_id: str, platform: PlatformDep, principal: PrincipalDep, body: JsonBody
) -> Doc:
    """Change an org's fields (its id and owner stay)."""
    org = platform.accounts.owned_org(principal.account_id, org_id)
    return platform.store.save("org", _patched(org, body))


@orgs.delete("/{org_id}")
async def delete_org(org_id: str, platform: PlatformDep, principal: PrincipalDep) -> Doc:
    """Delete an org with its projects and everything in them."""
    platform.accounts.owned_org(principal.account_id, org_id)
    with platform.store.transaction():
        for project in platform.store.query("project", scope=org_id)[0]:
            _delete_project(platform, project["id"])
        platform.store.delete("org", org_id)
    return {"id": org_id, "deleted": True}


@projects.post("/create", status_code=201)
async def create_project(platform: PlatformDep, principal: PrincipalDep, body: JsonBody) -> Doc:
    """A new project in one of the caller's orgs (``org_id`` in the body, else the current)."""
    body = {**body, "org_id": body.get("org_id") or principal.org_id}
    return platform.accounts.create_project(principal.account_id, body)


@projects.get("/list/{org_id}")
async def list_projects(org_id: str, platform: PlatformDep, principal: PrincipalDep) -> list[Doc]:
    """Every project of one of the caller's orgs."""
    platform.accounts.owned_org(principal.account_id, org_id)
    return platform.store.query("project", scope=org_id)[0]


@projects.get("/{project_id}")
async def get_project(project_id: str, platform: PlatformDep, principal: PrincipalDep) -> Doc:
    """One project of the caller's account."""
    return platform.accounts.owned_project(principal.account_id, project_id)


@projects.put("/{project_id}")
async def update_project(
    project_id: str,
    platform: PlatformDep,
    principal: PrincipalDep,
    body: JsonBody,
) -> Doc:
    """Change a project's fields (its id, org and owner stay)."""
    project = platform.accounts.owned_project(principal.account_id, project_id)
    return platform.store.save("project", _patched(project, body))


@projects.delete("/{project_id}")
async def delete_project(project_id: str, platform: PlatformDep, principal: PrincipalDep) -> Doc:
    """Delete a project and everything in it."""
    platform.accounts.owned_project(principal.account_id, project_id)
    _delete_project(platform, project_id)
    return {"id": project_id, "deleted": True}
