"""``ClientConfig`` and ``RetryConfig`` at their 0.2 path, kept for 0.2 code.

``viksa_ai.client`` is their home now (``from viksa_ai.client import ClientConfig``).
"""

from viksa_ai.client._config import DEFAULT_BASE_URL, ClientConfig, RetryConfig

__all__ = ["DEFAULT_BASE_URL", "ClientConfig", "RetryConfig"]
