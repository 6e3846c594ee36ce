"""``/org`` and ``/project``: the orgs and projects an account owns.

Each route declares the action it takes (``allowed``): a user token may do all of them
in its account, a key only what ``_access`` grants it, within its own org and project.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict

from viksa_ai.devtools.platform.http._bodies import JsonBody, parse_body
from viksa_ai.devtools.platform.http._deps import PlatformDep, allowed
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.services._access import Access
from viksa_ai.devtools.platform.services._clock import now_iso
from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["orgs", "projects"]

orgs = PlatformRouter(prefix="/org", tags=["orgs"])
projects = PlatformRouter(prefix="/project", tags=["projects"])

OrgReader = Annotated[Access, allowed("org:read")]
OrgWriter = Annotated[Access, allowed("org:write")]
ProjectReader = Annotated[Access, allowed("project:read")]
ProjectCreator = Annotated[Access, allowed("project:create")]
ProjectWriter = Annotated[Access, allowed("project:write")]

_FIXED = frozenset({"id", "account_id", "org_id", "created_at"})


class _TenancyBody(BaseModel):
    """The fields of an org or project body the platform reads; others are kept as sent."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    org_id: str | None = None


def _checked(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` once its known fields have the right types (422 items otherwise)."""
    parse_body(_TenancyBody, body)
    return body


def _patched(doc: Doc, body: dict[str, Any]) -> Doc:
    body = _checked(body)
    return {**doc, **{k: v for k, v in body.items() if k not in _FIXED}, "updated_at": now_iso()}


@orgs.get("/list")
async def list_orgs(platform: PlatformDep, access: OrgReader) -> list[Doc]:
    """Every org of the caller's account (a key's own org only)."""
    return access.visible(platform.accounts.orgs_of(access.principal.account_id), "org_id")


@orgs.post("/create", status_code=201)
async def create_org(platform: PlatformDep, access: OrgWriter, body: JsonBody) -> Doc:
    """A new org in the caller's account."""
    return platform.accounts.create_org(access.principal.account_id, _checked(body))


@orgs.get("/{org_id}")
async def get_org(org_id: str, access: OrgReader) -> Doc:
    """One org of the caller's account."""
    return access.org(org_id)


@orgs.put("/{org_id}")
async def update_org(org_id: str, platform: PlatformDep, access: OrgWriter, body: JsonBody) -> Doc:
    """Change an org's fields (its id and owner stay)."""
    return platform.accounts.update_tenant("org", _patched(access.org(org_id), body))


@orgs.delete("/{org_id}")
async def delete_org(org_id: str, platform: PlatformDep, access: OrgWriter) -> Doc:
    """Delete an org with its projects and everything in them."""
    access.org(org_id)
    platform.accounts.delete_org(org_id)
    return {"id": org_id, "deleted": True}


@projects.post("/create", status_code=201)
async def create_project(platform: PlatformDep, access: ProjectCreator, body: JsonBody) -> Doc:
    """A new project in one of the caller's orgs (``org_id`` in the body, else the current)."""
    body = _checked(body)
    body = {**body, "org_id": body.get("org_id") or access.principal.org_id}
    return platform.accounts.create_project(access.principal.account_id, body)


@projects.get("/list/{org_id}")
async def list_projects(org_id: str, platform: PlatformDep, access: ProjectReader) -> list[Doc]:
    """Every project of one of the caller's orgs (a key's own project only)."""
    access.org(org_id)
    return access.visible(platform.accounts.projects_of(org_id), "project_id")


@projects.get("/{project_id}")
async def get_project(project_id: str, access: ProjectReader) -> Doc:
    """One project of the caller's account."""
    return access.project(project_id)


@projects.put("/{project_id}")
async def update_project(
    project_id: str, platform: PlatformDep, access: ProjectWriter, body: JsonBody
) -> Doc:
    """Change a project's fields (its id, org and owner stay)."""
    return platform.accounts.update_tenant("project", _patched(access.project(project_id), body))


@projects.delete("/{project_id}")
async def delete_project(project_id: str, platform: PlatformDep, access: ProjectWriter) -> Doc:
    """Delete a project and everything in it."""
    access.project(project_id)
    platform.accounts.delete_project(project_id)
    return {"id": project_id, "deleted": True}
