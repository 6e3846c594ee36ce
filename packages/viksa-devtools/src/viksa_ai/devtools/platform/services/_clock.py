"""Timestamps as the platform writes them: ISO 8601 strings in UTC, as on the wire."""

from __future__ import annotations

import time
from datetime import datetime, timezone

__all__ = ["iso_at", "now_iso", "seconds_of"]


def now_iso() -> str:
    """The current UTC time in ISO 8601 with a ``Z`` suffix."""
    return iso_at(time.time())


def iso_at(seconds: float) -> str:
    """The moment ``seconds`` after the Unix epoch in ISO 8601 (UTC, ``Z`` suffix)."""
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat().replace("+00:00", "Z")


def seconds_of(stamp: str | float) -> float:
    """Seconds since the Unix epoch of an ISO 8601 timestamp written by :func:`iso_at`.

    A number is taken as seconds already: data files written before timestamps were
    all ISO 8601 still hold some as numbers.
    """
    if isinstance(stamp, (int, float)):
        return float(stamp)
    # Python 3.10's fromisoformat does not read the ``Z`` suffix.
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
