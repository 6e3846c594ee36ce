"""``ViksaClient`` at its 0.2 path, kept for 0.2 code.

``viksa_ai.client`` is its home now (``from viksa_ai.client import ViksaClient``).
"""

from viksa_ai.client._async._client import ViksaClient

__all__ = ["ViksaClient"]
