"""Users, accounts, orgs, projects, sessions and keys: who is calling and what they own.

Access tokens are HS256 JWTs naming a session; refresh tokens are opaque and rotate on
every use (a rotated one presented again revokes its session, as OAuth's reuse
detection recommends). API and worker keys are shown once and stored as digests.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any, Literal

from viksa_ai.devtools.platform.services._access import check_reach
from viksa_ai.devtools.platform.services._clock import iso_at, now_iso
from viksa_ai.devtools.platform.services._errors import conflict, forbidden, not_found, unauthorized
from viksa_ai.devtools.platform.services._memo import Memo
from viksa_ai.devtools.platform.services._security import (
    TokenError,
    decode_jwt,
    encode_jwt,
    hash_password,
    hash_token,
    new_id,
    new_secret,
    verify_password,
)
from viksa_ai.devtools.platform.services._sign_in_throttle import (
    SIGN_IN_LIMITS,
    SignInLimits,
    SignInThrottle,
)
from viksa_ai.devtools.platform.store._store import Doc, KeyTakenError, Kind, Store

__all__ = ["Accounts", "Principal"]

GLOBAL = "global"
KeyKind = Literal["api", "worker"]
_KEY_PREFIX: dict[KeyKind, str] = {"api": "vk", "worker": "vkw"}
# Verified callers and their tenants are kept briefly, so a request does not hash and
# look up its credentials again; any write to these kinds drops what was kept.
_IDENTITY_KINDS: tuple[Kind, ...] = ("key", "session", "org", "project")
_IDENTITY_TTL = 30.0
_IDENTITY_ENTRIES = 4096


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user session (JWT) or a project key."""

    account_id: str
    user_id: str | None
    org_id: str | None
    project_id: str | None
    via: Literal["jwt", "api_key", "worker_key"]
    session_id: str | None = None
    key_id: str | None = None


@functools.cache
def _unknown_user_hash() -> str:
    """A real scrypt hash of a random password no one knows (made once, when first needed)."""
    return hash_password(new_secret("unknown"))


def _public(doc: Doc, *hidden: str) -> Doc:
    return {k: v for k, v in doc.items() if k not in hidden}


class Accounts:
    """Identity and tenancy over a :class:`Store`."""

    def __init__(
        self,
        store: Store,
        signing_key: bytes,
        *,
        access_ttl: int,
        refresh_ttl: int,
        sign_in_limits: SignInLimits = SIGN_IN_LIMITS,
    ) -> None:
        self.store = store
        self.throttle = SignInThrottle(sign_in_limits)
        """Counts password attempts (:meth:`login`); replaceable, with a test's clock."""
        self._key = signing_key
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._principals: Memo[Principal] = Memo(
            store, _IDENTITY_KINDS, ttl=_IDENTITY_TTL, size=_IDENTITY_ENTRIES
        )
        self._tenants: Memo[tuple[str | None, str | None]] = Memo(
            store, _IDENTITY_KINDS, ttl=_IDENTITY_TTL, size=_IDENTITY_ENTRIES
        )

    # -- users, orgs, projects ------------------------------------------------------

    def create_user(self, email: str, password: str, *, name: str | None = None) -> Doc:
        """A new user with its own account, a default org and a default project."""
        with self.store.transaction():
            user_id, account_id = new_id("usr"), new_id("acc")
            user = {
                "id": user_id,
                "email": email,
                "name": name or email.split("@")[0],
                "account_id": account_id,
                "password_hash": hash_password(password),
                "created_at": now_iso(),
            }
            try:
                self.store.insert("user", user, scope=GLOBAL, key=email.lower())
            except KeyTakenError as exc:
                raise conflict(
                    f"A user with email {email!r} already exists.", code="email_taken"
                ) from exc
            self.store.insert(
                "account",
                {"id": account_id, "owner_user_id": user_id, "plan": "local-dev"},
                scope=GLOBAL,
            )
            org = self.create_org(account_id, {"name": "Default org"})
            self.create_project(account_id, {"org_id": org["id"], "name": "Default project"})
        return user

    def user_by_email(self, email: str) -> Doc | None:
        """The user registered with ``email`` (case-insensitive), or None."""
        return self.store.find("user", GLOBAL, email.lower())

    def set_password(self, user: Doc, password: str) -> None:
        """Replace a user's password (the hash is all that is kept)."""
        user["password_hash"] = hash_password(password)
        self.store.save("user", user)

    def public_user(self, user: Doc, principal: Principal) -> Doc:
        """The UserResponse of ``user`` as seen by ``principal``."""
        return {
            **_public(user, "password_hash"),
            "org_id": principal.org_id,
            "project_id": principal.project_id,
        }

    def create_org(self, account_id: str, body: dict[str, Any]) -> Doc:
        """A new org owned by ``account_id``."""
        org = {
            **body,
            "id": new_id("org"),
            "name": str(body.get("name") or "Untitled org"),
            "account_id": account_id,
            "created_at": now_iso(),
        }
        return self.store.insert("org", org, scope=account_id)

    def create_project(self, account_id: str, body: dict[str, Any]) -> Doc:
        """A new project in one of ``account_id``'s orgs."""
        org_id = str(body.get("org_id") or "")
        self.owned_org(account_id, org_id)
        project = {
            **body,
            "id": new_id("prj"),
            "name": str(body.get("name") or "Untitled project"),
            "org_id": org_id,
            "account_id": account_id,
            "created_at": now_iso(),
        }
        return self.store.insert("project", project, scope=org_id)

    def orgs_of(self, account_id: str) -> list[Doc]:
        """Every org of an account."""
        return self.store.query("org", scope=account_id)[0]

    def projects_of(self, org_id: str) -> list[Doc]:
        """Every project of an org."""
        return self.store.query("project", scope=org_id)[0]

    def update_tenant(self, kind: Literal["org", "project"], doc: Doc) -> Doc:
        """Store a changed org or project (its id, owner and org were kept by the caller)."""
        return self.store.save(kind, doc)

    def delete_project(self, project_id: str) -> None:
        """Delete a project, everything in it and its keys."""
        with self.store.transaction():
            self.store.delete_scope(project_id)
            for key in self.store.query("key", where={"project_id": project_id})[0]:
                self.store.delete("key", key["id"])
            self.store.delete("project", project_id)

    def delete_org(self, org_id: str) -> None:
        """Delete an org with its projects and everything in them."""
        with self.store.transaction():
            for project in self.projects_of(org_id):
                self.delete_project(project["id"])
            self.store.delete("org", org_id)

    def user_of(self, principal: Principal) -> Doc:
        """The user behind a principal; 404 when it is gone."""
        user = self.store.get("user", principal.user_id or "")
        if user is None:
            raise not_found("User", principal.user_id or "")
        return user

    def usage(self, project_id: str | None) -> dict[str, int]:
        """How many records of each countable kind a project holds (zeros without one)."""
        kinds: tuple[Kind, ...] = ("agent", "secret", "trigger", "workflow", "schedule")
        counts: dict[str, int] = {
            kind: self.store.query(kind, scope=project_id, limit=0)[1] if project_id else 0
            for kind in kinds
        }
        counts["execution"] = (
            self.store.query("execution", where={"project_id": project_id}, limit=0)[1]
            if project_id
            else 0
        )
        return counts

    def owned_org(self, account_id: str, org_id: str) -> Doc:
        """The org ``org_id`` if ``account_id`` owns it: 404 when absent, 403 when foreign."""
        org = self.store.get("org", org_id)
        if org is None:
            raise not_found("Org", org_id)
        if org["account_id"] != account_id:
            raise forbidden(f"You do not belong to org {org_id!r}.", code="foreign_tenant")
        return org

    def owned_project(self, account_id: str, project_id: str) -> Doc:
        """The project ``project_id`` if ``account_id`` owns it: 404 / 403 otherwise."""
        project = self.store.get("project", project_id)
        if project is None:
            raise not_found("Project", project_id)
        if project["account_id"] != account_id:
            raise forbidden(f"You do not belong to project {project_id!r}.", code="foreign_tenant")
        return project

    def first_project(self, org_id: str) -> Doc | None:
        """The oldest project of an org, or None."""
        items, _ = self.store.query("project", scope=org_id, limit=1)
        return items[0] if items else None

    def first_org(self, account_id: str) -> Doc | None:
        """The oldest org of an account, or None."""
        items, _ = self.store.query("org", scope=account_id, limit=1)
        return items[0] if items else None

    # -- sessions and tokens --------------------------------------------------------

    def login(self, email: str, password: str, *, client: str | None = None) -> Doc:
        """Check a password and open a session; raises 401 on any mismatch.

        Attempts are counted per email and per ``client`` address: too many, and the
        next ones are refused with 429 for a while (see :class:`SignInThrottle`).
        """
        with self.throttle.attempt(email, client):
            user = self.user_by_email(email)
            # An unknown email costs the same scrypt as a wrong password (and counts the
            # same): the answer must not tell which emails are registered.
            stored = _unknown_user_hash() if user is None else user["password_hash"]
            if not verify_password(password, stored) or user is None:
                raise unauthorized("Incorrect email or password.", code="invalid_credentials")
        org = self.first_org(user["account_id"])
        project = self.first_project(org["id"]) if org else None
        return self.open_session(
            user, org["id"] if org else None, project["id"] if project else None
        )

    def open_session(self, user: Doc, org_id: str | None, project_id: str | None) -> Doc:
        """A new session for ``user`` in a tenant; answers a TokenResponse."""
        now = time.time()
        session = {
            "id": new_id("ses"),
            "user_id": user["id"],
            "account_id": user["account_id"],
            "org_id": org_id,
            "project_id": project_id,
            "created_at": now_iso(),
            "last_used_at": now_iso(),
            "expires_at": now + self.refresh_ttl,
            "revoked": False,
            "refresh_hash": "",
        }
        return self._issue(session, insert=True)

    def _issue(self, session: Doc, *, insert: bool) -> Doc:
        """New tokens for ``session``; a rotated refresh token is remembered as used.

        Every rotation (refresh, switch-org, switch-project) goes through here, so the
        old token presented again is reuse wherever the rotation happened.
        """
        refresh = new_secret("vrt")
        if not insert:
            self.store.insert(
                "used_refresh",
                {"id": new_id("rtu"), "session_id": session["id"]},
                scope=GLOBAL,
                key=session["refresh_hash"],
            )
        session["refresh_hash"] = hash_token(refresh)
        session["last_used_at"] = now_iso()
        if insert:
            self.store.insert("session", session, scope=session["user_id"])
        else:
            self.store.save("session", session)
        now = int(time.time())
        claims = {
            "sub": session["user_id"],
            "acc": session["account_id"],
            "org": session["org_id"],
            "prj": session["project_id"],
            "sid": session["id"],
            "iat": now,
            "exp": now + self.access_ttl,
            "jti": new_id("jti"),
        }
        return {
            "access_token": encode_jwt(claims, self._key),
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": self.access_ttl,
            "user_id": session["user_id"],
            "account_id": session["account_id"],
            "org_id": session["org_id"],
            "project_id": session["project_id"],
        }

    def refresh(self, refresh_token: str) -> Doc:
        """Rotate a refresh token: the old one stops working, new tokens are issued."""
        digest = hash_token(refresh_token)
        used = self.store.find("used_refresh", GLOBAL, digest)
        if used is not None:
            # A rotated token came back: assume it leaked and end its session.
            self._revoke(used["session_id"])
            raise unauthorized(
                "This refresh token was already used; the session has been ended. Log in again.",
                code="refresh_token_reused",
            )
        with self.store.transaction():
            found, _ = self.store.query("session", where={"refresh_hash": digest}, limit=1)
            session = found[0] if found else None
            if session is None or session["revoked"] or session["expires_at"] <= time.time():
                raise unauthorized(
                    "The refresh token is invalid or expired; log in again.",
                    code="invalid_refresh_token",
                )
            return self._issue(session, insert=False)

    def switch(self, principal: Principal, org_id: str, project_id: str | None) -> Doc:
        """New tokens for the caller's session in another org or project."""
        if principal.session_id is None:
            raise forbidden(
                "API keys are bound to one project; log in to switch org or project.",
                code="key_cannot_switch",
            )
        self.owned_org(principal.account_id, org_id)
        if project_id is None:
            first = self.first_project(org_id)
            project_id = first["id"] if first else None
        elif self.owned_project(principal.account_id, project_id)["org_id"] != org_id:
            raise forbidden(f"Project {project_id!r} is not in org {org_id!r}.")
        session = self.store.get("session", principal.session_id)
        if session is None:
            raise unauthorized("The session has ended; log in again.", code="session_ended")
        session["org_id"], session["project_id"] = org_id, project_id
        with self.store.transaction():
            return self._issue(session, insert=False)

    def _revoke(self, session_id: str) -> None:
        session = self.store.get("session", session_id)
        if session is not None and not session["revoked"]:
            session["revoked"] = True
            self.store.save("session", session)

    def session_principal(self, session_id: str) -> Principal | None:
        """The user behind a live session (None once it is revoked or expired)."""
        session = self.store.get("session", session_id)
        if session is None or session["revoked"] or session["expires_at"] <= time.time():
            return None
        return Principal(
            account_id=session["account_id"],
            user_id=session["user_id"],
            org_id=session["org_id"],
            project_id=session["project_id"],
            via="jwt",
            session_id=session["id"],
        )

    def revoke_session(self, user_id: str, session_id: str) -> None:
        """End one of ``user_id``'s sessions (404 when it is not theirs)."""
        session = self.store.get("session", session_id)
        if session is None or session["user_id"] != user_id:
            raise not_found("Session", session_id)
        self._revoke(session_id)

    def revoke_all_sessions(self, user_id: str, *, keep: str | None = None) -> int:
        """End every session of ``user_id`` except ``keep``; how many ended."""
        sessions, _ = self.store.query("session", scope=user_id, where={"revoked": False})
        ended = 0
        with self.store.transaction():
            for session in sessions:
                if session["id"] != keep:
                    self._revoke(session["id"])
                    ended += 1
        return ended

    def list_sessions(self, principal: Principal) -> list[Doc]:
        """The caller's live sessions, the current one marked."""
        assert principal.user_id is not None
        sessions, _ = self.store.query("session", scope=principal.user_id, where={"revoked": False})
        return [
            {
                **_public(s, "refresh_hash", "revoked"),
                # Stored as epoch seconds to compare; answered like every other timestamp.
                "expires_at": iso_at(s["expires_at"]),
                "current": s["id"] == principal.session_id,
            }
            for s in sessions
            if s["expires_at"] > time.time()
        ]

    # -- authenticating a request ----------------------------------------------------

    def authenticate(self, token: str) -> Principal:
        """The principal behind a bearer token (JWT or key); raises 401 when invalid.

        A verified token is kept (by its digest) for a few seconds, until it expires,
        or until a key, session, org or project changes, whichever comes first.
        """
        digest = hash_token(token)
        cached = self._principals.get(digest)
        if cached is not None:
            return cached
        version = self._principals.version()
        if token.startswith(("vk_", "vkw_")):
            principal, until = self._authenticate_key(digest), None
        else:
            principal, until = self._authenticate_jwt(token)
        self._principals.put(digest, principal, version, until=until)
        return principal

    def _authenticate_jwt(self, token: str) -> tuple[Principal, float]:
        try:
            claims = decode_jwt(token, self._key)
        except TokenError as exc:
            code = "token_expired" if "expired" in str(exc) else "invalid_token"
            raise unauthorized(str(exc), code=code) from exc
        session = self.store.get("session", str(claims.get("sid")))
        if session is None or session["revoked"]:
            raise unauthorized("The session has ended; log in again.", code="session_ended")
        principal = Principal(
            account_id=str(claims["acc"]),
            user_id=str(claims["sub"]),
            org_id=claims.get("org"),
            project_id=claims.get("prj"),
            via="jwt",
            session_id=session["id"],
        )
        return principal, float(claims["exp"])

    def _authenticate_key(self, digest: str) -> Principal:
        key = self.store.find("key", GLOBAL, digest)
        if key is None or key["revoked"]:
            raise unauthorized("The API key is invalid or revoked.", code="invalid_api_key")
        return Principal(
            account_id=key["account_id"],
            user_id=key["user_id"],
            org_id=key["org_id"],
            project_id=key["project_id"],
            via="worker_key" if key["kind"] == "worker" else "api_key",
            key_id=key["id"],
        )

    def tenant_of(
        self, principal: Principal, org_id: str | None, project_id: str | None
    ) -> tuple[str | None, str | None]:
        """The org and project a request acts in, checked to be the caller's.

        ``org_id`` and ``project_id`` are the ``X-Tenant-*`` headers (None: the
        principal's own). A key speaks for its own project only; a project must be in
        the org named. 403 for a tenant of another account, 404 for one that is gone.
        """
        memo_key = (principal, org_id, project_id)
        cached = self._tenants.get(memo_key)
        if cached is not None:
            return cached
        version = self._tenants.version()
        check_reach(principal, org_id=org_id or None, project_id=project_id or None)
        org_id = org_id or principal.org_id
        project_id = project_id or principal.project_id
        if org_id is not None:
            self.owned_org(principal.account_id, org_id)
        if project_id is not None:
            project = self.owned_project(principal.account_id, project_id)
            if org_id is not None and project["org_id"] != org_id:
                raise forbidden(f"Project {project_id!r} is not in org {org_id!r}.")
            org_id = project["org_id"]
        self._tenants.put(memo_key, (org_id, project_id), version)
        return org_id, project_id

    def owner_of(self, token: str) -> str | None:
        """Who a bearer token speaks for (or None): its principal's account, org, project
        and credential, a key by its id, a user token by its user.

        The Idempotency-Key scope: two keys (or tokens) of one account acting in
        different projects must never replay each other's answers, nor two credentials
        of one project (a worker key would get what only its user's token may do, such
        as a new API key). A user's refreshed token is the same credential.
        """
        try:
            principal = self.authenticate(token)
        except Exception:
            return None
        credential = f"key:{principal.key_id}" if principal.key_id else f"user:{principal.user_id}"
        tenant = f"{principal.account_id}/{principal.org_id or ''}/{principal.project_id or ''}"
        return f"{tenant}/{credential}"

    # -- keys --------------------------------------------------------------------------

    def create_key(
        self, kind: KeyKind, principal: Principal, name: str, description: str | None
    ) -> Doc:
        """A new key for the caller's project; the answer holds the secret, once."""
        if principal.project_id is None:
            raise forbidden("Select a project before creating keys.", code="no_project")
        secret = new_secret(_KEY_PREFIX[kind])
        doc = {
            "id": new_id("key"),
            "kind": kind,
            "name": name,
            "description": description,
            "prefix": secret[:10],
            "account_id": principal.account_id,
            "user_id": principal.user_id,
            "org_id": principal.org_id,
            "project_id": principal.project_id,
            "scopes": ["worker"] if kind == "worker" else ["project"],
            "created_at": now_iso(),
            "revoked": False,
        }
        self.store.insert("key", doc, scope=GLOBAL, key=hash_token(secret))
        return {**doc, "key": secret}

    def list_keys(
        self, kind: KeyKind, principal: Principal, skip: int, limit: int
    ) -> tuple[list[Doc], int]:
        """One page of the caller's project keys of ``kind`` (never their secrets)."""
        return self.store.query(
            "key",
            where={"kind": kind, "project_id": principal.project_id},
            skip=skip,
            limit=limit,
        )

    def delete_key(self, key_id: str) -> None:
        """Delete a key for good (it stops authenticating at once)."""
        self.store.delete("key", key_id)

    def revoke_key(self, key: Doc) -> Doc:
        """Mark a key revoked: it stops authenticating at once."""
        key["revoked"] = True
        key["revoked_at"] = now_iso()
        self.store.save("key", key)
        return key

    def validate_key(self, token: str) -> Doc:
        """A KeyValidationResponse for any string (never raises)."""
        key = self.store.find("key", GLOBAL, hash_token(token))
        if key is None:
            return {"valid": False, "scopes": [], "error": "Unknown API key."}
        if key["revoked"]:
            return {"valid": False, "scopes": [], "error": "The API key has been revoked."}
        return {
            "valid": True,
            "account_id": key["account_id"],
            "org_id": key["org_id"],
            "project_id": key["project_id"],
            "scopes": key["scopes"],
            "key_id": key["id"],
            "kind": key["kind"],
        }
