"""What each credential may do on ``/org``, ``/project`` and the key routes.

A user token acts for its whole account. An API key speaks for its own project: it may
read its org, read, change and delete its project, and manage that project's keys. A
worker key may only read its own org and project. The grants are one table and the
reach of a key one check (:func:`check_reach`), which ``X-Tenant-*`` headers go
through too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from viksa_ai.devtools.platform.services._errors import forbidden, not_found

if TYPE_CHECKING:
    from viksa_ai.devtools.platform.services._accounts import Accounts, Principal
    from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["Access", "Action", "check_grant", "check_reach", "reaches"]

Action = Literal[
    "org:read",
    "org:write",
    "project:read",
    "project:create",
    "project:write",
    "key:read",
    "key:write",
]

_USER = "a user token (log in with email and password)"
_USER_OR_API_KEY = "a user token or an API key"
# What each action is called in a refusal, and the weakest credential that may take it.
_ACTIONS: dict[Action, tuple[str, str]] = {
    "org:read": ("Reading orgs", "any credential"),
    "org:write": ("Creating, changing or deleting orgs", _USER),
    "project:read": ("Reading projects", "any credential"),
    "project:create": ("Creating projects", _USER),
    "project:write": ("Changing or deleting projects", _USER_OR_API_KEY),
    "key:read": ("Listing keys", _USER_OR_API_KEY),
    "key:write": ("Creating, revoking or deleting keys", _USER_OR_API_KEY),
}
_GRANTS: dict[str, frozenset[Action]] = {
    "jwt": frozenset(_ACTIONS),
    "api_key": frozenset({"org:read", "project:read", "project:write", "key:read", "key:write"}),
    "worker_key": frozenset({"org:read", "project:read"}),
}
_CREDENTIAL = {"jwt": "a user token", "api_key": "an API key", "worker_key": "a worker key"}


def _this_key(principal: Principal) -> str:
    return "This worker key" if principal.via == "worker_key" else "This API key"


def check_grant(principal: Principal, action: Action) -> None:
    """403 naming the credential needed when ``principal``'s kind may not take ``action``."""
    if action in _GRANTS[principal.via]:
        return
    what, needed = _ACTIONS[action]
    raise forbidden(
        f"{what} needs {needed}; {_CREDENTIAL[principal.via]} cannot.",
        code="credential_not_allowed",
    )


def check_reach(
    principal: Principal, *, org_id: str | None = None, project_id: str | None = None
) -> None:
    """403 when a key names an org or project other than its own (user tokens pass)."""
    if principal.via == "jwt":
        return
    if org_id is not None and org_id != principal.org_id:
        raise forbidden(
            f"{_this_key(principal)} belongs to org {principal.org_id!r}, not {org_id!r}; "
            "use a key of that org's project, or a user token.",
            code="foreign_tenant",
        )
    if project_id is not None and project_id != principal.project_id:
        raise forbidden(
            f"{_this_key(principal)} belongs to project {principal.project_id!r}, not "
            f"{project_id!r}; use a key of that project, or a user token.",
            code="foreign_tenant",
        )


def reaches(
    principal: Principal, *, org_id: str | None = None, project_id: str | None = None
) -> bool:
    """Whether :func:`check_reach` lets ``principal`` at that org or project."""
    return principal.via == "jwt" or (
        org_id in (None, principal.org_id) and project_id in (None, principal.project_id)
    )


@dataclass(frozen=True)
class Access:
    """A caller allowed a route's action; resolves the records the route names.

    Each lookup answers 404 when the record is gone, 403 when another account owns it
    or it lies outside a key's project.
    """

    principal: Principal
    accounts: Accounts

    def org(self, org_id: str) -> Doc:
        """One org of the caller's account, within a key's reach."""
        org = self.accounts.owned_org(self.principal.account_id, org_id)
        check_reach(self.principal, org_id=org_id)
        return org

    def project(self, project_id: str) -> Doc:
        """One project of the caller's account, within a key's reach."""
        project = self.accounts.owned_project(self.principal.account_id, project_id)
        check_reach(self.principal, project_id=project_id)
        return project

    def key(self, key_id: str) -> Doc:
        """One key of the caller's account; a key caller reaches its project's keys only."""
        key = self.accounts.store.get("key", key_id)
        if key is None:
            raise not_found("Key", key_id)
        if key["account_id"] != self.principal.account_id:
            raise forbidden(f"Key {key_id!r} belongs to another account.")
        check_reach(self.principal, project_id=key["project_id"])
        return key

    def visible(self, docs: list[Doc], field: Literal["org_id", "project_id"]) -> list[Doc]:
        """The records of ``docs`` (orgs or projects, by ``id``) a key reaches."""
        return [d for d in docs if reaches(self.principal, **{field: d["id"]})]
