"""What a successful call of an endpoint gives back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["RunResult"]


@dataclass(frozen=True)
class RunResult:
    """The outcome of a call that returned.

    ``value`` is the endpoint's return value as JSON decoded it; ``duration_ms`` the
    time the endpoint ran in the child; ``output`` what the endpoint wrote to stdout
    and stderr during the call when the worker captures output (``None`` otherwise),
    with the call's secret values redacted.
    """

    endpoint: str
    value: Any
    duration_ms: float
    output: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict."""
        return {
            "endpoint": self.endpoint,
            "value": self.value,
            "duration_ms": self.duration_ms,
            "output": self.output,
        }
