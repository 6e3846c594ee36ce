"""The credentials and tenant of a client, shared with its blocking twin.

Tokens adopted from login, refresh or a switch replace the old ones for every later
call. Each adoption bumps ``generation``, so concurrent calls failing with 401 can tell
whether another call already refreshed the token they used.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from viksa_ai.client._errors import ViksaConfigError, ViksaDecodeError

if TYPE_CHECKING:
    from viksa_ai.models.auth import TokenResponse

__all__ = ["AuthMode", "Credentials", "check_answered_token"]

AuthMode = Literal["jwt", "api_key", "webhook", "none"]

# What a bearer token may hold: visible ASCII. Anything else cannot travel in a header,
# and httpx would quote the whole header, secret included, in its error.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]*").fullmatch


def _checked(value: str | None, name: str) -> str | None:
    """``value``, refused when it cannot be sent as ``Authorization: Bearer <value>``."""
    if value is not None and not _HEADER_SAFE(value):
        raise ViksaConfigError(
            f"{name} holds whitespace, a line break, a control or a non-ASCII character, "
            f"which cannot travel in an HTTP header: strip it (for example {name}.strip()) "
            "or check where it was read from"
        )
    return value


def _not_empty(value: str | None, name: str) -> str | None:
    """``value``, refused when empty: the client would send no ``Authorization`` at all."""
    if value == "":
        what = {"api_key": "API key", "webhook_token": "webhook token"}.get(name, "access token")
        raise ViksaConfigError(
            f"{name} is empty: pass the {what}, or None for a client without credentials "
            "(was it read from an unset variable?)"
        )
    return value


def check_answered_token(tokens: TokenResponse) -> None:
    """Refuse a token answer whose access token could not be sent (``ViksaDecodeError``).

    Adopted, it failed every later call before it left ("Illegal header value"), and no
    401 ever came to refresh it: the client kept its old tokens only if refused here.
    """
    token = tokens.access_token
    if not token or not _HEADER_SAFE(token):
        raise ViksaDecodeError(
            "the platform answered an access token that cannot be sent in an HTTP header "
            "(empty, or holding whitespace, a control or a non-ASCII character); the "
            "client keeps its current tokens",
            raw="",
        )


class Credentials:
    """Mutable credential state; its ``repr`` never shows a secret."""

    __slots__ = (
        "_api_key",
        "_bearer",
        "access_token",
        "failed_generation",
        "generation",
        "org_id",
        "project_id",
        "refresh_token",
        "webhook_token",
    )

    def __init__(
        self,
        *,
        access_token: str | None = None,
        api_key: str | None = None,
        refresh_token: str | None = None,
        webhook_token: str | None = None,
        org_id: str | None = None,
        project_id: str | None = None,
    ) -> None:
        self.access_token = _checked(_not_empty(access_token, "access_token"), "access_token")
        self._api_key = _checked(_not_empty(api_key, "api_key"), "api_key")
        self.refresh_token = refresh_token
        self.webhook_token = _checked(_not_empty(webhook_token, "webhook_token"), "webhook_token")
        # The tenant ids travel as headers too (X-Tenant-Org-Id, X-Tenant-Project-Id).
        self.org_id = _checked(org_id, "org_id")
        self.project_id = _checked(project_id, "project_id")
        self.generation = 0
        self.failed_generation: int | None = None
        self._bearer = self._make_bearer()

    @property
    def api_key(self) -> str | None:
        """The project API key, when this is an API-key client."""
        return self._api_key

    @property
    def mode(self) -> AuthMode:
        """How this client authenticates."""
        if self._api_key is not None:
            return "api_key"
        if self.webhook_token is not None:
            return "webhook"
        if self.access_token is not None or self.refresh_token is not None:
            return "jwt"
        return "none"

    def _make_bearer(self) -> str | None:
        secret = self._api_key or self.webhook_token or self.access_token
        return None if secret is None else f"Bearer {secret}"

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header value, or ``None`` without credentials."""
        return self._bearer

    @property
    def can_refresh(self) -> bool:
        """Whether a 401 may be answered by refreshing (JWT clients with a refresh token)."""
        return self._api_key is None and self.webhook_token is None and bool(self.refresh_token)

    def adopt(
        self,
        tokens: TokenResponse,
        switched_to: tuple[str | None, str | None] | None = None,
    ) -> None:
        """Take the tokens and tenant ids of a login, refresh or switch answer.

        A login or refresh keeps the ids its answer leaves out. A switch moves to the
        ``(org_id, project_id)`` it asked for when the answer does not name them, and an
        org switch drops the old project: a project belongs to one org, and sending it with
        another would be refused. The tokens replace an API key: after a login the client
        acts as the user who logged in.
        """
        self._api_key = None
        self.access_token = tokens.access_token
        if tokens.refresh_token:
            self.refresh_token = tokens.refresh_token
        if switched_to is None:
            self.org_id = tokens.org_id or self.org_id
            self.project_id = tokens.project_id or self.project_id
        else:
            org_id, project_id = switched_to
            kept_project = self.project_id if org_id is None else None
            self.org_id = tokens.org_id or org_id or self.org_id
            self.project_id = tokens.project_id or project_id or kept_project
        self._bearer = self._make_bearer()
        self.generation += 1
        self.failed_generation = None

    def secrets(self) -> tuple[str, ...]:
        """Every secret held, to scrub from errors and logs."""
        values = (self.access_token, self.refresh_token, self._api_key, self.webhook_token)
        return tuple(value for value in values if value)

    def __repr__(self) -> str:
        return (
            f"Credentials(mode={self.mode!r}, org_id={self.org_id!r}, "
            f"project_id={self.project_id!r})"
        )
