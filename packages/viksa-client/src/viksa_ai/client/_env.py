"""Reading the ``VIKSA_*`` environment for ``from_env``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from viksa_ai.client._errors import ViksaConfigError

__all__ = ["EnvCredentials", "read_env"]


@dataclass(frozen=True)
class EnvCredentials:
    """The credential found in the environment (exactly one kind is set) and the tenant."""

    api_key: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    email: str | None = None
    password: str | None = None
    org_id: str | None = None
    project_id: str | None = None

    def __repr__(self) -> str:
        return f"EnvCredentials(org_id={self.org_id!r}, project_id={self.project_id!r})"


def read_env(environ: Mapping[str, str]) -> EnvCredentials:
    """The first credential set: ``VIKSA_API_KEY``, ``VIKSA_ACCESS_TOKEN``, then login."""

    def get(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    # VIKSA_BASE_URL is read by the client's settings (for every constructor).
    tenant = {"org_id": get("VIKSA_ORG_ID"), "project_id": get("VIKSA_PROJECT_ID")}
    api_key = get("VIKSA_API_KEY")
    if api_key:
        return EnvCredentials(api_key=api_key, **tenant)
    access_token = get("VIKSA_ACCESS_TOKEN")
    if access_token:
        return EnvCredentials(
            access_token=access_token, refresh_token=get("VIKSA_REFRESH_TOKEN"), **tenant
        )
    email, password = get("VIKSA_EMAIL"), get("VIKSA_PASSWORD")
    if email and password:
        return EnvCredentials(email=email, password=password, **tenant)
    if email or password:
        missing = "VIKSA_PASSWORD" if email else "VIKSA_EMAIL"
        raise ViksaConfigError(
            f"{missing} is not set: VIKSA_EMAIL and VIKSA_PASSWORD log in together"
        )
    raise ViksaConfigError(
        "no Viksa credentials in the environment: set VIKSA_API_KEY, or VIKSA_ACCESS_TOKEN "
        "(optionally with VIKSA_REFRESH_TOKEN), or VIKSA_EMAIL and VIKSA_PASSWORD"
    )
