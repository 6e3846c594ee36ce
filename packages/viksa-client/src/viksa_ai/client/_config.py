"""Client-wide and per-call settings: retries, idempotency keys, timeouts, headers."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeAlias

import httpx

from viksa_ai.client._errors import ViksaConfigError
from viksa_ai.client._logging import redact_headers

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_ANSWER_BYTES",
    "DEFAULT_MAX_EVENT_BYTES",
    "ClientConfig",
    "HttpBackend",
    "RequestOptions",
    "RetryConfig",
    "checked_timeout",
]

DEFAULT_BASE_URL = "https://api.viksaai.com"
DEFAULT_MAX_ANSWER_BYTES = 64 * 1024 * 1024
"""How many bytes of one answer a client buffers by default (after decompression)."""
DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024
"""How many bytes of one stream event a client buffers by default (after decompression)."""

HttpBackend: TypeAlias = Literal["httpx", "aiohttp"]
"""Which HTTP transport a client builds for itself: httpx's own, or the aiohttp-backed one."""


@dataclass(frozen=True)
class RetryConfig:
    """When and how long to wait before a failed call is tried again.

    A call is tried at most ``max_retries + 1`` times. Connection errors (when
    ``retry_connection_errors``) and the answers in ``retry_status_codes`` are retried.
    The wait before retry ``n`` (0-based) is a random time in
    ``[0, min(max_delay, initial_delay * 2**n)]`` ("full jitter"), unless the server sent
    ``Retry-After`` or ``retry-after-ms``: a hint of ``max_delay`` or less is waited, a
    longer one fails the call at once (the error carries ``retry_after``).
    A 409 saying the call's own Idempotency-Key is still in use is retried with backoff,
    until ``deadline`` when there is one, else up to ``max_retries`` times.

    ``deadline`` (seconds) bounds the whole call: all attempts, the waits between them,
    the wait for a token refresh and the reading of each answer's body; past it the call
    raises ``ViksaTimeoutError``.
    For a stream it bounds opening it (up to its headers); reading its events is not
    bounded by it.
    """

    max_retries: int = 3
    initial_delay: float = 0.5
    max_delay: float = 8.0
    retry_status_codes: Collection[int] = frozenset({429, 502, 503, 504})
    retry_connection_errors: bool = True
    deadline: float | None = None

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        # NaN passes every comparison, and a wait of NaN or inf seconds never ends.
        for name in ("initial_delay", "max_delay", "deadline"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ViksaConfigError(f"{name} must be a finite number of seconds, got {value}")
        if self.initial_delay < 0 or self.max_delay < 0:
            raise ValueError("initial_delay and max_delay must be >= 0")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError(f"deadline must be > 0 seconds, got {self.deadline}")
        # Accept any iterable of ints (a set, list or tuple) and store it frozen.
        object.__setattr__(self, "retry_status_codes", frozenset(self.retry_status_codes))


def _repr_redacting(settings: ClientConfig | RequestOptions, *redacted: str) -> str:
    """The dataclass repr, with the credential-like values of the ``redacted`` fields (a
    mapping of headers or query parameters) redacted."""
    parts = []
    for item in fields(settings):
        value = getattr(settings, item.name)
        if item.name in redacted and value is not None:
            value = redact_headers(value)
        parts.append(f"{item.name}={value!r}")
    return f"{type(settings).__name__}({', '.join(parts)})"


@dataclass(frozen=True)
class ClientConfig:
    """Settings shared by every call of one client.

    ``idempotency_key`` is sent on every write (POST, PUT, PATCH, DELETE) of this client
    instead of a fresh random key per call; a key given per call still wins. With
    ``auto_idempotency_keys=False`` writes without a key carry none, and such a write is
    retried only when it certainly never reached the server (a failed connect).
    ``default_headers`` are added to every request (per-call headers win).

    ``max_answer_bytes`` caps what one answer may hold (64 MiB by default) and
    ``max_event_bytes`` what one event of a stream may hold (16 MiB), both counted after
    decompression: a larger answer or event ends the call with
    ``ViksaResponseTooLargeError`` instead of filling memory. An error answer larger
    than ``max_answer_bytes`` is cut there (its ``body`` holds the start).
    """

    retry: RetryConfig = field(default_factory=RetryConfig)
    idempotency_key: str | None = None
    auto_idempotency_keys: bool = True
    default_headers: Mapping[str, str] = field(default_factory=dict)
    user_agent: str | None = None
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES

    def __post_init__(self) -> None:
        for name in ("max_answer_bytes", "max_event_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ViksaConfigError(f"{name} must be a positive number of bytes, got {value!r}")

    def __repr__(self) -> str:
        return _repr_redacting(self, "default_headers")


@dataclass(frozen=True)
class RequestOptions:
    """Options for one call, given as ``options=RequestOptions(...)`` to any operation.

    ``timeout`` replaces the client's timeout, ``extra_headers`` and ``extra_query`` are
    merged over what the operation sends, ``idempotency_key`` replaces the generated or
    configured key, and ``retry`` replaces the client's retry policy for this call.
    """

    timeout: float | httpx.Timeout | None = None
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, Any] | None = None
    idempotency_key: str | None = None
    retry: RetryConfig | None = None

    def __post_init__(self) -> None:
        checked_timeout(self.timeout, "RequestOptions.timeout")

    def __repr__(self) -> str:
        return _repr_redacting(self, "extra_headers", "extra_query")


def checked_timeout(value: object, name: str) -> None:
    """Refuse a timeout that is not None, an ``httpx.Timeout`` or a positive finite number.

    0 or a negative number would time every call out at once, and a string would fail
    each call with a ``TypeError`` deep in the transport.
    """
    if value is None or isinstance(value, httpx.Timeout) or _positive_seconds(value):
        return
    raise ViksaConfigError(
        f"{name} must be a positive number of seconds, an httpx.Timeout or None, got {value!r}"
    )


def _positive_seconds(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and value > 0
