"""Request bodies: JSON objects, checked against the wire models of viksa-models.

Routes take bodies as plain JSON objects and check them here rather than declaring
the models as FastAPI parameters: the wire models build their schemas lazily
(``defer_build``), which FastAPI's parameter machinery warns about.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Body
from pydantic import BaseModel, ValidationError

from viksa_ai.devtools.platform._errors import detail_item, unprocessable

__all__ = ["JsonBody", "OptionalJsonBody", "parse_body"]

JsonBody = Annotated[dict[str, Any], Body()]
"""A required JSON object body."""
OptionalJsonBody = Annotated[dict[str, Any] | None, Body()]
"""A JSON object body that may be left out."""

_M = TypeVar("_M", bound=BaseModel)


def parse_body(model: type[_M], body: Any) -> _M:
    """``body`` as a ``model``; 422 with FastAPI-style items when it does not fit."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise unprocessable(
            detail_item(["body", *err["loc"]], err["msg"], err["type"])
            for err in exc.errors(include_url=False)
        ) from None
