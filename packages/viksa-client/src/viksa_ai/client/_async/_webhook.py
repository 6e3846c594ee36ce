"""Public webhooks of chat triggers: no platform token, optional webhook token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from viksa_ai.client._async._stream import AsyncEventStream
from viksa_ai.client._call import CHAT, Call
from viksa_ai.client._decode import as_json
from viksa_ai.client._logging import redact_url
from viksa_ai.client._paths import encode_segment

if TYPE_CHECKING:
    from viksa_ai.client._async._client import ViksaClient
    from viksa_ai.client._config import RequestOptions
    from viksa_ai.models.answers import (
        ExecutionRecord,
        StreamEvent,
        WebhookHealth,
    )

__all__ = ["AsyncViksaWebhook"]

T = TypeVar("T")


class AsyncViksaWebhook:
    """One trigger's webhook: ``invoke``, ``stream`` (SSE) and ``health``.

    Made with ``ViksaClient.webhook(trigger_id, webhook_token=...)``; the token, when
    given, travels as ``Authorization: Bearer``. Close it with ``async with`` or
    ``aclose()``.
    """

    def __init__(self, trigger_id: str, client: ViksaClient) -> None:
        encode_segment(trigger_id)  # refuse an unusable id now, not at the first call
        self._trigger_id = trigger_id
        self._client = client

    @property
    def trigger_id(self) -> str:
        """The trigger this webhook calls."""
        return self._trigger_id

    async def invoke(
        self, payload: Any, *, options: RequestOptions | None = None
    ) -> ExecutionRecord:
        """Fire the trigger with ``payload``; answers the platform's JSON."""
        return await self._client._request(self._call("POST", "", payload), options)

    def stream(
        self, payload: Any, *, options: RequestOptions | None = None
    ) -> AsyncEventStream[StreamEvent]:
        """Fire the trigger and follow its run as a stream of JSON events."""
        return AsyncEventStream(self._client, self._call("POST", "/stream", payload), options)

    async def health(self, *, options: RequestOptions | None = None) -> WebhookHealth:
        """The webhook's health answer."""
        return await self._client._request(self._call("GET", "/health", None), options)

    def _call(self, method: str, suffix: str, payload: Any) -> Call[T]:
        call: Call[Any] = Call(
            method=method,
            service=CHAT,
            path="/webhook/trigger/{}" + suffix,
            segments=(self._trigger_id,),
            body=payload,
            decode=as_json,
        )
        return call

    async def aclose(self) -> None:
        """Close the connections this webhook client opened."""
        await self._client.aclose()

    async def __aenter__(self) -> AsyncViksaWebhook:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        name = type(self).__name__
        base_url = redact_url(self._client.base_url)  # user info in the URL is a credential
        return f"{name}(trigger_id={self._trigger_id!r}, base_url={base_url!r})"
