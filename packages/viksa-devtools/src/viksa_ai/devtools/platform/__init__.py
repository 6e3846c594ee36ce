"""The local Viksa platform: the platform API served from SQLite on your machine.

``viksa dev`` serves it on 127.0.0.1; :func:`create_app` builds the same ASGI app for
in-process use (``httpx.ASGITransport``), as the pytest plugin's fixtures do. Needs the
``server`` extra: ``pip install "viksa-devtools[server]"``.
"""

from __future__ import annotations

from viksa_ai.devtools.platform._config import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    DEFAULT_PORT,
    PlatformConfig,
)
from viksa_ai.devtools.platform._local import LocalPlatform, SyncASGITransport
from viksa_ai.devtools.platform._platform import Platform, SeededCredentials
from viksa_ai.devtools.platform.http._app import create_app
from viksa_ai.devtools.platform.http._faults import (
    FAULT_HEADER,
    FaultSpec,
    FaultSpecError,
    parse_fault_spec,
)
from viksa_ai.devtools.platform.services._sign_in_throttle import SignInLimits, SignInThrottle

__all__ = [
    "DEFAULT_EMAIL",
    "DEFAULT_PASSWORD",
    "DEFAULT_PORT",
    "FAULT_HEADER",
    "FaultSpec",
    "FaultSpecError",
    "LocalPlatform",
    "Platform",
    "PlatformConfig",
    "SeededCredentials",
    "SignInLimits",
    "SignInThrottle",
    "SyncASGITransport",
    "create_app",
    "parse_fault_spec",
]
