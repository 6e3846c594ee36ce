"""pytest fixtures for testing against a local Viksa platform, in-process.

Registered automatically (entry point ``pytest11``) when viksa-devtools is installed;
the fixtures need the ``server`` extra (and pytest-asyncio for the async ones):

- ``viksa_platform_config``: the :class:`PlatformConfig` used; override it to change
  token lifetimes or arm faults.
- ``viksa_platform``: a fresh, seeded in-memory platform (``LocalPlatform``).
- ``viksa_client``: a ``ViksaClient`` bound to it (API key of the seeded user).
- ``viksa_sync_client``: a ``ViksaSyncClient`` bound to a platform of its own.
- ``viksa_deploy``: a function deploying an agent folder to that platform, as
  ``viksa deploy`` does (validated first); it returns the agent document.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from viksa_ai.client import ViksaClient, ViksaSyncClient
    from viksa_ai.devtools.platform import LocalPlatform, PlatformConfig

__all__ = [
    "viksa_client",
    "viksa_deploy",
    "viksa_platform",
    "viksa_platform_config",
    "viksa_sync_client",
]

try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - the async fixtures then need another async plugin
    _async_fixture = pytest.fixture  # type: ignore[assignment]


@pytest.fixture
def viksa_platform_config() -> PlatformConfig:
    """The configuration of the platform fixtures (in memory, defaults)."""
    from viksa_ai.devtools.platform import PlatformConfig

    return PlatformConfig()


@_async_fixture
async def viksa_platform(viksa_platform_config: PlatformConfig) -> AsyncIterator[LocalPlatform]:
    """A fresh, seeded in-memory platform app; closed after the test."""
    from viksa_ai.devtools.platform import LocalPlatform

    local = LocalPlatform.start(viksa_platform_config)
    try:
        yield local
    finally:
        await local.aclose()


@_async_fixture
async def viksa_client(viksa_platform: LocalPlatform) -> AsyncIterator[ViksaClient]:
    """A ViksaClient bound to ``viksa_platform`` with the seeded user's API key."""
    async with viksa_platform.async_client() as client:
        yield client


@pytest.fixture
def viksa_sync_client(viksa_platform_config: PlatformConfig) -> Iterator[ViksaSyncClient]:
    """A ViksaSyncClient bound to a fresh platform of its own, served on a loop thread."""
    from viksa_ai.devtools.platform import LocalPlatform, SyncASGITransport

    local = LocalPlatform.start(viksa_platform_config)
    transport = SyncASGITransport(local.app)
    try:
        with local.sync_client(transport) as client:
            yield client
    finally:
        transport.run(local.aclose())
        transport.close()


@pytest.fixture
def viksa_deploy(
    viksa_sync_client: ViksaSyncClient,
) -> Callable[..., dict[str, Any]]:
    """``deploy(path, secrets=None)``: deploy an agent folder to ``viksa_sync_client``'s platform.

    The folder is validated first (an invalid agent fails the test with the validator's
    report); ``secrets`` maps ``METHOD.PARAM`` to values bound through the vault. Returns
    the deployed agent's document (``id``, ``agent_alias``, ``agent_endpoints``...).
    """
    from viksa_ai.devtools._deploy import DeployError, deploy_agent

    def deploy(
        path: str | os.PathLike[str], secrets: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        try:
            result = deploy_agent(viksa_sync_client, Path(path), secrets)
        except DeployError as exc:
            pytest.fail("\n".join([str(exc), *exc.lines]), pytrace=False)
        return viksa_sync_client.builder.agents.get(result.agent_id)

    return deploy
