"""Timestamps as the platform writes them."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["now_iso"]


def now_iso() -> str:
    """The current UTC time in ISO 8601 with a ``Z`` suffix."""
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
