"""``/marketplace/api/v1/marketplace``: listings, workforces and publisher profiles.

Listings and workforces are visible to every account once published; installing one
copies its agents (and a workforce's workflow) into the caller's project.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from viksa_ai.devtools.platform.http._bodies import JsonBody, OptionalJsonBody
from viksa_ai.devtools.platform.http._deps import PageDep, PlatformDep, ProjectDep, Tenant
from viksa_ai.devtools.platform.http._listing import listing
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.services._marketplace import CATEGORIES, Installer
from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["router"]

router = PlatformRouter(prefix="/marketplace/api/v1/marketplace", tags=["marketplace"])
Search = Annotated[str | None, Query(max_length=256)]


def _installer(tenant: Tenant) -> Installer:
    return Installer(tenant.caller, org_id=tenant.org_id, user_id=tenant.principal.user_id)


# -- publishers ----------------------------------------------------------------------------


@router.post("/publishers/profile", status_code=201)
async def create_profile(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """The caller's publisher profile (one per account)."""
    return platform.marketplace.create_profile(tenant.caller, body)


@router.get("/publishers/me")
async def my_profile(platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """The caller's publisher profile."""
    return platform.marketplace.profile(tenant.caller)


@router.put("/publishers/profile")
async def update_profile(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Change the caller's publisher profile."""
    return platform.marketplace.update_profile(tenant.caller, body)


# -- listings --------------------------------------------------------------------------------


@router.post("/listings", status_code=201)
async def create_listing(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A ``draft`` listing of one of the caller's agents (needs a publisher profile)."""
    return platform.marketplace.create_listing(tenant.caller, body)


@router.get("/listings/search")
async def search_listings(
    platform: PlatformDep,
    tenant: ProjectDep,
    page: PageDep,
    q: Search = None,
    category: Search = None,
) -> Doc:
    """Published listings matching ``q`` and ``category``."""
    del tenant
    found = platform.marketplace.search_listings(q, category, skip=page.skip, limit=page.limit)
    return listing("listings", found, page)


@router.get("/listings")
async def list_listings(
    platform: PlatformDep,
    tenant: ProjectDep,
    page: PageDep,
    status: Search = None,
    mine: bool = False,
) -> Doc:
    """Listings the caller can see, by ``status`` when given.

    Published listings, or with ``mine=true`` the caller's own (drafts included). Only
    the caller's own listings can be in another state (a ``draft``), so such a
    ``status`` lists the caller's own either way.
    """
    found = platform.marketplace.listings(
        tenant.caller, status, mine=mine, skip=page.skip, limit=page.limit
    )
    return listing("listings", found, page)


@router.get("/listings/{listing_id}")
async def get_listing(listing_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A published listing, or one of the caller's drafts."""
    return platform.marketplace.listing(tenant.caller, listing_id)


@router.post("/listings/{listing_id}/publish")
async def publish_listing(
    listing_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> Doc:
    """draft -> published."""
    return platform.marketplace.publish_listing(tenant.caller, listing_id, body or {})


@router.post("/listings/{listing_id}/install", status_code=201)
async def install_listing(
    listing_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Copy a published listing's agent into the caller's project (``alias`` optional)."""
    return await platform.marketplace.install_listing(_installer(tenant), listing_id, body)


# -- workforces ------------------------------------------------------------------------------


@router.post("/workforce/publish", status_code=201)
async def publish_workforce(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Publish a team of agents (``agent_ids``) and optionally their ``workflow_id``."""
    return platform.marketplace.publish_workforce(tenant.caller, body)


@router.get("/workforce/search")
async def search_workforces(
    platform: PlatformDep, tenant: ProjectDep, page: PageDep, q: Search = None
) -> Doc:
    """Published workforces matching ``q``."""
    del tenant
    found = platform.marketplace.search_workforces(q, skip=page.skip, limit=page.limit)
    return listing("workforces", found, page)


@router.get("/workforce/{workforce_id}")
async def get_workforce(workforce_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One workforce."""
    return platform.marketplace.workforce(tenant.caller, workforce_id)


@router.post("/workforce/{workforce_id}/install", status_code=201)
async def install_workforce(
    workforce_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Copy a workforce's agents (aliases suffixed by ``alias_suffix``) and workflow."""
    return await platform.marketplace.install_workforce(_installer(tenant), workforce_id, body)


@router.get("/categories")
async def categories() -> Doc:
    """The listing categories."""
    return {"categories": [{"id": c, "name": c.replace("-", " ").title()} for c in CATEGORIES]}


@router.get("/install")
async def installations(platform: PlatformDep, tenant: ProjectDep, page: PageDep) -> Doc:
    """What the caller's project installed from the marketplace."""
    found = platform.marketplace.installations(tenant.project, skip=page.skip, limit=page.limit)
    return listing("installations", found, page)
