"""The platform's JSON answers: every body encoded by the shared :func:`dumps_json`."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from viksa_ai.devtools._json import dumps_json

__all__ = ["JsonAnswer"]


class JsonAnswer(JSONResponse):
    """A JSON answer encoded as ``viksa run`` prints results (a NaN result is ``null``).

    Starlette's own encoder refuses non-finite numbers with ``ValueError`` (a 500).
    """

    def render(self, content: Any) -> bytes:
        """``content`` as UTF-8 JSON."""
        return dumps_json(content).encode("utf-8")
