"""The blocking twin: how the async client offers its README ``_sync`` methods.

An async ``ViksaClient`` lends its credentials to a ``ViksaSyncClient`` made on first
use, so ``login_sync`` / ``me_sync`` / ... run the generated sync pipeline and the
tokens they adopt serve both. A sync client is its own twin.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from viksa_ai.client._errors import ViksaConfigError, ViksaError
from viksa_ai.client._settings import twin_settings

if TYPE_CHECKING:
    from viksa_ai.client._async._client import ViksaClient
    from viksa_ai.client._sync._client import ViksaSyncClient

__all__ = ["blocking_twin", "close_blocking", "close_twin", "closed_error"]

# Threads calling `_sync` helpers of one client at once must share one twin, not each
# leave one behind unclosed; and a close must not miss a twin being made meanwhile.
_making = threading.Lock()


def blocking_twin(client: ViksaClient | ViksaSyncClient) -> ViksaSyncClient:
    """The sync client to run blocking calls of ``client`` with (made on first use)."""
    from viksa_ai.client._sync._client import ViksaSyncClient

    if isinstance(client, ViksaSyncClient):
        return client
    twin = client._twin
    if twin is not None:
        return twin
    with _making:
        if client._closed:
            raise closed_error()
        if not client._owns_http:
            # Sending around the caller's client would bypass its proxy, mTLS or transport.
            raise ViksaConfigError(
                "blocking calls cannot use the httpx.AsyncClient given as http_client: await "
                "the async operation instead (for example `await client.auth.login(...)`), "
                "or use ViksaSyncClient(http_client=httpx.Client(...))"
            )
        if client._twin is None:
            client._twin = ViksaSyncClient._from_settings(twin_settings(client._settings))
        return client._twin


def close_blocking(client: ViksaClient | ViksaSyncClient) -> None:
    """Release, without an event loop, what a constructor that failed had opened."""
    from viksa_ai.client._sync._client import ViksaSyncClient

    if isinstance(client, ViksaSyncClient):
        client.close()
    else:
        close_twin(client)


def close_twin(client: ViksaClient | ViksaSyncClient) -> None:
    """Mark ``client`` closed and close its twin: none can be made after, or be left over."""
    with _making:
        client._closed = True
        twin, client._twin = client._twin, None
    if twin is not None:
        twin.close()


def closed_error() -> ViksaError:
    """The error of a call made on (or ended by) a closed client."""
    return ViksaError("this client is closed: create a new client to make calls")
