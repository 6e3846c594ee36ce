"""Request bodies: JSON objects, checked against the wire models of viksa-models.

Routes take bodies as plain JSON objects and check them here rather than declaring
the models as FastAPI parameters: the wire models build their schemas lazily
(``defer_build``), which FastAPI's parameter machinery warns about.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body

from viksa_ai.devtools.platform.services._validation import parse_body, required_id

__all__ = ["JsonBody", "OptionalJsonBody", "parse_body", "required_id"]

JsonBody = Annotated[dict[str, Any], Body()]
"""A required JSON object body."""
OptionalJsonBody = Annotated[dict[str, Any] | None, Body()]
"""A JSON object body that may be left out."""
