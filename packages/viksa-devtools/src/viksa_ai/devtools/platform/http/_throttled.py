"""The 429 answer of a throttled route, as the OpenAPI document describes it.

Routes that check a password or a passphrase refuse attempts past their throttle's
limits (``SignInThrottle``) with 429, ``Retry-After`` and a coded detail; their
``responses=`` says so, so readers of the document and generated clients know it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["throttled"]


def throttled(noun: str, subject: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route refusing too many ``noun`` attempts on ``subject``, worded
    and coded as its throttle refuses them (``too_many_<noun>_attempts``)."""
    code = f"too_many_{noun.replace('-', '_')}_attempts"
    message = f"Too many {noun} attempts for {subject}: try again in 4 seconds."
    return {
        429: {
            "description": (
                f"Too many {noun} attempts: wait the seconds ``Retry-After`` says, then try again."
            ),
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before the next attempt.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            },
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["detail"],
                        "properties": {
                            "detail": {
                                "type": "object",
                                "required": ["message", "code"],
                                "properties": {
                                    "message": {"type": "string"},
                                    "code": {"type": "string", "enum": [code]},
                                    "field": {"type": "null"},
                                },
                            }
                        },
                    },
                    "example": {"detail": {"message": message, "code": code, "field": None}},
                }
            },
        }
    }
