"""Models of the auth service (``/auth``): logins, tokens, users and API key checks.

Requests are closed (unknown fields are rejected), answers are open (unknown fields are
kept). Models that carry a secret hide it from ``repr`` and from validation errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import ConfigDict, Field

from viksa_ai.models._base import ClosedModel, OpenModel

__all__ = [
    "ApiKeyRequest",
    "KeyValidationRequest",
    "KeyValidationResponse",
    "LoginRequest",
    "RefreshRequest",
    "SwitchOrgRequest",
    "SwitchProjectRequest",
    "TokenResponse",
    "UserResponse",
]

# A validation error would otherwise quote the input, secret included.
_HIDE_SECRETS = ConfigDict(hide_input_in_errors=True)
_CREDENTIAL_WORDS = ("token", "secret", "password", "passphrase", "key", "credential")


class LoginRequest(ClosedModel):
    """The body of ``auth.login``; the password never shows in ``repr`` or errors."""

    model_config = _HIDE_SECRETS

    email: str
    password: str = Field(repr=False)


class RefreshRequest(ClosedModel):
    """The body of ``auth.refresh``; the token never shows in ``repr`` or errors."""

    model_config = _HIDE_SECRETS

    refresh_token: str = Field(repr=False)


class TokenResponse(OpenModel):
    """Tokens and tenant ids answered by login, refresh and the switch routes.

    ``expires_in`` is the access token's lifetime in seconds. The tokens never show in
    ``repr`` or validation errors, nor do unknown fields named like a credential
    (``id_token``, say).
    """

    model_config = _HIDE_SECRETS

    access_token: str = Field(repr=False)
    refresh_token: str = Field(repr=False)
    token_type: str = "bearer"  # noqa: S105 - the token kind, not a secret
    expires_in: int
    user_id: str
    account_id: str
    org_id: str | None = None
    project_id: str | None = None

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Open model: a field the platform adds later (an id_token, a session secret)
        # is shown unless its name says it is a credential.
        known = type(self).model_fields
        for name, value in super().__repr_args__():
            if name is None or name in known or not _names_a_credential(name):
                yield name, value


def _names_a_credential(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _CREDENTIAL_WORDS)


class UserResponse(OpenModel):
    """The current user (``auth.me``); every other field the platform sends is kept."""

    id: str
    email: str
    account_id: str


class SwitchOrgRequest(ClosedModel):
    """The body of ``auth.switch_org``."""

    org_id: str


class SwitchProjectRequest(ClosedModel):
    """The body of ``auth.switch_project``."""

    project_id: str


class ApiKeyRequest(ClosedModel):
    """The body of ``auth.create_api_key`` and ``auth.create_worker_key``."""

    name: str
    description: str | None = None


class KeyValidationRequest(ClosedModel):
    """The body of ``auth.validate_api_key``; the key never shows in ``repr`` or errors."""

    model_config = _HIDE_SECRETS

    api_key: str = Field(repr=False)


class KeyValidationResponse(OpenModel):
    """Whether an API key is valid, and the tenant and scopes it grants."""

    valid: bool
    account_id: str | None = None
    org_id: str | None = None
    project_id: str | None = None
    scopes: list[str] = Field(default_factory=list)
    error: str | None = None
