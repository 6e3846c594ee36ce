"""``WebhookClient`` at its 0.2 path, kept for 0.2 code.

``viksa_ai.client`` is its home now (``from viksa_ai.client import WebhookClient``).
"""

from viksa_ai.client._webhook_client import WebhookClient

__all__ = ["WebhookClient"]
