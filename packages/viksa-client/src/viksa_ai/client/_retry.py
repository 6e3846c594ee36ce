"""Retry policy as plain functions: what may be retried and how long to wait."""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime

import httpx

from viksa_ai.client._config import RetryConfig

__all__ = [
    "WRITE_METHODS",
    "backoff_delay",
    "is_timeout",
    "may_have_reached_server",
    "parse_retry_after",
    "retry_delay",
]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Class names of aiohttp errors raised before any byte of the request was sent;
# httpx-aiohttp maps them (and others) to httpx exceptions, keeping the original as cause.
_AIOHTTP_NOT_SENT = frozenset({"ClientConnectorError", "ConnectionTimeoutError"})
_AIOHTTP_TIMEOUTS = frozenset({"ServerTimeoutError", "SocketTimeoutError", "TimeoutError"})


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _non_negative_float(millis)
        if seconds is not None:
            return seconds / 1000.0
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _non_negative_float(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # Overflow: a 20-digit year
        return None
    if when.tzinfo is None:  # HTTP dates are GMT
        return None
    return max(0.0, when.timestamp() - time.time())


def _non_negative_float(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or number < 0 or number == float("inf"):  # NaN, negative, inf
        return None
    return number


def backoff_delay(retry: RetryConfig, attempt: int) -> float:
    """Full-jitter exponential backoff for retry number ``attempt`` (0-based)."""
    ceiling = min(retry.max_delay, retry.initial_delay * (2 ** min(attempt, 32)))
    # Jitter spreads clients apart; it is not security sensitive.
    return random.uniform(0.0, ceiling)  # noqa: S311


def retry_delay(retry: RetryConfig, attempt: int, server_hint: float | None) -> float:
    """The wait before retry ``attempt``: the server's hint (capped) or the backoff."""
    if server_hint is not None:
        return min(server_hint, retry.max_delay)
    return backoff_delay(retry, attempt)


def _aiohttp_cause(exc: BaseException) -> BaseException | None:
    cause = exc.__cause__
    if cause is not None and type(cause).__module__.split(".")[0] == "aiohttp":
        return cause
    return None


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def may_have_reached_server(exc: httpx.TransportError) -> bool:
    """False only when the request surely never left: connect failures and pool waits."""
    cause = _aiohttp_cause(exc)
    if cause is not None:
        # httpx-aiohttp maps every connection error to ConnectTimeout, a disconnect
        # after sending included: judge by aiohttp's own class instead.
        return not (_class_names(cause) & _AIOHTTP_NOT_SENT)
    return not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def is_timeout(exc: httpx.TransportError) -> bool:
    """Whether a transport error is a timeout (for ``ViksaTimeoutError``)."""
    cause = _aiohttp_cause(exc)
    if cause is not None:
        return bool(_class_names(cause) & _AIOHTTP_TIMEOUTS)
    return isinstance(exc, httpx.TimeoutException)
