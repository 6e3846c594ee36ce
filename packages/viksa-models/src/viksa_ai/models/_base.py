"""The configuration policy shared by every Viksa wire model.

Two kinds of model travel on the wire:

* **Open** models (``extra="allow"``) keep fields this SDK does not know yet, so nothing
  a newer platform sends is lost and a document read from the platform can be sent back
  unchanged. Responses, the agent manifest family and A2A messages are open.
* **Closed** models (``extra="forbid"``) reject unknown fields: they are small command
  requests built in Python, where an unknown field is almost always a misspelt one.

Schemas are built on first use (``defer_build``), so importing the models stays cheap.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from viksa_ai.models._enums import WireEnum

__all__ = ["ClosedModel", "OpenModel", "WireEnum", "WireModel"]


class WireModel(BaseModel):
    """Base of every model: the shared configuration and the wire dump."""

    model_config = ConfigDict(defer_build=True)

    def to_wire(self) -> dict[str, Any]:
        """Return the JSON-ready dict this model sends on the wire (extras included)."""
        return self.model_dump(mode="json")


class OpenModel(WireModel):
    """A model that keeps unknown fields (``model_extra``) and sends them back."""

    model_config = ConfigDict(extra="allow")


class ClosedModel(WireModel):
    """A command request that rejects unknown fields, naming each one."""

    model_config = ConfigDict(extra="forbid")
