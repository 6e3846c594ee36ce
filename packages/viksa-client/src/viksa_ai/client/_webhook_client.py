"""``WebhookClient``: the 0.2 way to build a webhook client, kept for 0.2 code."""

from __future__ import annotations

import httpx

from viksa_ai.client._async._client import ViksaClient
from viksa_ai.client._async._webhook import AsyncViksaWebhook
from viksa_ai.client._settings import DEFAULT_TIMEOUT

__all__ = ["WebhookClient"]


class WebhookClient(AsyncViksaWebhook):
    """One trigger's public webhook, built directly (0.2 API).

    ``WebhookClient(trigger_id, webhook_token=...)`` is ``ViksaClient.webhook(trigger_id,
    webhook_token=...)`` under its 0.2 name: ``await invoke(payload)``, ``stream(payload)``
    (``async for event in ...``) and ``await health()``. ``base_url`` defaults to
    ``VIKSA_BASE_URL`` or the public gateway. It keeps its connections open between calls:
    close it with ``async with`` or ``aclose()``.
    """

    def __init__(
        self,
        trigger_id: str,
        *,
        base_url: str | None = None,
        webhook_token: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
    ) -> None:
        client = ViksaClient._for_webhook(webhook_token, base_url=base_url, timeout=timeout)
        super().__init__(trigger_id, client)

    @property
    def base_url(self) -> str:
        """The gateway URL the webhook is called on."""
        return self._client.base_url

    async def __aenter__(self) -> WebhookClient:
        return self
