"""The resources of the client: each method describes one call of api.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viksa_ai.client._async._client import ViksaClient

__all__ = ["attach_resources"]


def attach_resources(client: ViksaClient) -> None:
    """Create the sub-clients of ``client`` (imported here, at first client creation)."""
    from viksa_ai.client._async.resources._auth import AsyncAuth
    from viksa_ai.client._async.resources._builder import AsyncBuilder
    from viksa_ai.client._async.resources._chat import AsyncChat
    from viksa_ai.client._async.resources._marketplace import AsyncMarketplace
    from viksa_ai.client._async.resources._pulse import AsyncPulse
    from viksa_ai.client._async.resources._scheduler import AsyncScheduler
    from viksa_ai.client._async.resources._workflow import AsyncWorkflow

    client.auth = AsyncAuth(client)
    client.builder = AsyncBuilder(client)
    client.chat = AsyncChat(client)
    client.pulse = AsyncPulse(client)
    client.workflow = AsyncWorkflow(client)
    client.scheduler = AsyncScheduler(client)
    client.marketplace = AsyncMarketplace(client)
