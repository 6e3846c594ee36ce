"""What every resource shares: the client it describes calls for."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viksa_ai.client._async._client import ViksaClient

__all__ = ["AsyncResource"]


class AsyncResource:
    """A group of operations of one service; it only describes calls."""

    __slots__ = ("_client",)

    def __init__(self, client: ViksaClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"
