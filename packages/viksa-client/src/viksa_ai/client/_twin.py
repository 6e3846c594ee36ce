"""The blocking twin: how the async client offers its README ``_sync`` methods.

An async ``ViksaClient`` lends its credentials to a ``ViksaSyncClient`` made on first
use, so ``login_sync`` / ``me_sync`` / ... run the generated sync pipeline and the
tokens they adopt serve both. A sync client is its own twin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viksa_ai.client._async._client import ViksaClient
    from viksa_ai.client._sync._client import ViksaSyncClient

__all__ = ["blocking_twin", "close_blocking"]


def blocking_twin(client: ViksaClient | ViksaSyncClient) -> ViksaSyncClient:
    """The sync client to run blocking calls of ``client`` with."""
    from viksa_ai.client._sync._client import ViksaSyncClient

    if isinstance(client, ViksaSyncClient):
        return client
    return client._blocking_twin()


def close_blocking(client: ViksaClient | ViksaSyncClient) -> None:
    """Release, without an event loop, what a constructor that failed had opened."""
    from viksa_ai.client._sync._client import ViksaSyncClient

    if isinstance(client, ViksaSyncClient):
        client.close()
    elif client._twin is not None:
        client._twin.close()
        client._twin = None
