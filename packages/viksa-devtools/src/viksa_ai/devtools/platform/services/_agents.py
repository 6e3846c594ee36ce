"""Agent documents: shape, validation, endpoint paths, revisions and lifecycle states.

Build status: ``not_built`` -> ``built`` | ``failed``; any later update turns a
``built`` agent ``outdated``. Deploy status: ``not_deployed`` -> ``deployed``. Only a
valid agent builds, only an agent built at its current revision deploys.
"""

from __future__ import annotations

import re
from typing import Any

from viksa_ai.devtools.platform.services._clock import now_iso
from viksa_ai.devtools.platform.services._errors import detail_item, unprocessable
from viksa_ai.devtools.platform.services._security import new_id
from viksa_ai.devtools.platform.services._validation import manifest_issues, parse_body
from viksa_ai.devtools.platform.services._vault import AUTH_METHODS_FIELD, auth_binding_issues
from viksa_ai.devtools.platform.store._store import Doc, Store
from viksa_ai.models.agent import AgentCreationRequest

__all__ = [
    "PLATFORM_FIELDS",
    "checked_agent",
    "endpoint_of",
    "manifest_of",
    "new_agent",
    "save_revision",
]

# Fields the platform owns: a request can never set them.
PLATFORM_FIELDS = frozenset(
    {
        "id",
        "org_id",
        "project_id",
        "revision",
        "status",
        "build_status",
        "built_revision",
        "last_build",
        "deploy_status",
        "deployed_revision",
        "deployed_at",
        "created_at",
        "updated_at",
        "created_by",
        "shared_with",
    }
)
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,127}")


def manifest_of(agent: Doc) -> Doc:
    """The manifest part of an agent document (what agent.json holds)."""
    return {k: v for k, v in agent.items() if k not in PLATFORM_FIELDS and k != "agent_alias"}


async def checked_agent(
    body: dict[str, Any], store: Store, project_id: str, *, time_limit: float
) -> Doc:
    """``body`` normalised as an agent's user fields; 422 with every issue found.

    Checks the request shape, the alias, the manifest with the devtools validator and
    the auth bindings; fills each endpoint's ``alias.module.function`` path.
    """
    user_fields = {k: v for k, v in body.items() if k not in PLATFORM_FIELDS}
    request = parse_body(AgentCreationRequest, user_fields)
    doc = request.to_wire()
    alias = doc["agent_alias"]
    issues: list[dict[str, Any]] = []
    if not _ALIAS.fullmatch(alias):
        issues.append(
            detail_item(
                ["body", "agent_alias"],
                "an alias starts with a letter and holds letters, digits, _ or - "
                "(no dots: endpoint paths are alias.module.function)",
                "value_error.alias",
            )
        )
    for endpoint in doc["agent_endpoints"]:
        endpoint["endpoint"] = f"{alias}.{endpoint['module']}.{endpoint['name']}"
    issues.extend(await manifest_issues(manifest_of(doc), time_limit=time_limit))
    issues.extend(auth_binding_issues(doc.get(AUTH_METHODS_FIELD), store, project_id))
    if issues:
        raise unprocessable(issues)
    return doc


def new_agent(fields: Doc, *, org_id: str | None, project_id: str, user_id: str | None) -> Doc:
    """A fresh agent document at revision 1."""
    now = now_iso()
    return {
        **fields,
        "id": new_id("agt"),
        "org_id": org_id,
        "project_id": project_id,
        "revision": 1,
        "status": "enabled",
        "build_status": "not_built",
        "built_revision": None,
        "last_build": None,
        "deploy_status": "not_deployed",
        "deployed_revision": None,
        "deployed_at": None,
        "created_at": now,
        "updated_at": now,
        "created_by": user_id,
        "shared_with": [],
    }


def save_revision(store: Store, agent: Doc, changed: list[str], user_id: str | None) -> None:
    """Record the agent as it now is as revision ``agent["revision"]``."""
    store.insert(
        "agent_revision",
        {
            "id": f"{agent['id']}@{agent['revision']}",
            "agent_id": agent["id"],
            "revision": agent["revision"],
            "changed_fields": changed,
            "created_at": now_iso(),
            "created_by": user_id,
            "agent": agent,
        },
        scope=agent["project_id"],
    )


def endpoint_of(agent: Doc, name: str) -> Doc | None:
    """The endpoint of ``agent`` named ``name`` or with that full path, or None."""
    for endpoint in agent.get("agent_endpoints", []):
        if name in (endpoint["name"], endpoint["endpoint"]):
            return dict(endpoint)
    return None
