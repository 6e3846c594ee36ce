"""Names of the auth environment a worker gives an endpoint (stdlib only).

Shared by the runner and its child process, so both agree on which environment
variables belong to the auth configuration of a call.
"""

from __future__ import annotations

import re

__all__ = [
    "CLIENT_CREDENTIAL_VARS",
    "CONFIGURED_METHODS_VAR",
    "ENABLED_METHODS_VAR",
    "METHOD_ID",
    "PARAM_NAME",
    "is_auth_env_key",
]

ENABLED_METHODS_VAR = "VIKSA_AUTH_ENABLED_METHODS"
CONFIGURED_METHODS_VAR = "VIKSA_AUTH_CONFIGURED_METHODS"
METHOD_ID = re.compile(r"[a-z][a-z0-9_]*")
PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_AUTH_PARAM_VAR = re.compile(r"[a-z][a-z0-9_]*\.[^=]+")
# The developer's own platform credentials (``ViksaClient.from_env()``): a platform
# worker never hands them to agent code, so a local run must not either.
CLIENT_CREDENTIAL_VARS = frozenset(
    {
        "VIKSA_API_KEY",
        "VIKSA_ACCESS_TOKEN",
        "VIKSA_REFRESH_TOKEN",
        "VIKSA_EMAIL",
        "VIKSA_PASSWORD",
    }
)


def is_auth_env_key(name: str) -> bool:
    """Whether environment variable ``name`` is part of an agent's auth configuration."""
    return name in (ENABLED_METHODS_VAR, CONFIGURED_METHODS_VAR) or bool(
        _AUTH_PARAM_VAR.fullmatch(name)
    )
