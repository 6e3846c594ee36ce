"""What a client fixes at construction: where it sends, how, and with which credentials."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace

import httpx

from viksa_ai.client import __version__
from viksa_ai.client._config import (
    DEFAULT_BASE_URL,
    ClientConfig,
    HttpBackend,
    RetryConfig,
    checked_timeout,
)
from viksa_ai.client._credentials import Credentials
from viksa_ai.client._errors import ViksaConfigError
from viksa_ai.client._headers import check_headers
from viksa_ai.client._logging import guard_transport_log, redact_url, setup_from_env

__all__ = [
    "DEFAULT_TIMEOUT",
    "Settings",
    "ViksaInsecureTransportWarning",
    "make_settings",
    "twin_settings",
]

DEFAULT_TIMEOUT = 60.0


class ViksaInsecureTransportWarning(UserWarning):
    """A credential is about to travel over plain http to a host that is not loopback."""


ViksaInsecureTransportWarning.__module__ = "viksa_ai.client"  # its public home, in warnings


@dataclass
class Settings:
    """What a client fixed at construction: where to send, how, and its credentials."""

    base_url: str = field(repr=False)  # shown by the clients' own reprs
    config: ClientConfig
    retry: RetryConfig
    timeout: httpx.Timeout
    http_backend: HttpBackend
    credentials: Credentials
    insecure: bool
    # Out of the repr: default headers may hold a secret (``config`` shows them redacted).
    static_headers: httpx.Headers = field(default_factory=httpx.Headers, repr=False)
    warned_insecure: bool = False


def _shown_url(url: str) -> str:
    """A URL refused as ``base_url``, fit for its error: no user info, query redacted."""
    try:
        shown = redact_url(url)
    except ValueError:  # unparseable, an unclosed IPv6 bracket say
        shown = url
    # What precedes an "@" may be a password, wherever a URL too broken to parse (one
    # slash too few, no scheme) put it: drop it from each part of the path.
    end = len(shown.partition("?")[0].partition("#")[0])
    parts = [part.rpartition("@")[2] for part in shown[:end].split("/")]
    return "/".join(parts) + shown[end:]


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _usable_url(url: str) -> bool:
    """An http(s) URL with a host, a valid port and no query or fragment (paths follow)."""
    try:
        parsed = httpx.URL(url)
        port = parsed.port
    except httpx.InvalidURL:
        return False
    return (
        parsed.scheme in ("http", "https")
        and bool(parsed.host)
        and (port is None or 0 < port <= 65535)
        and not parsed.query
        and not parsed.fragment
    )


def make_settings(
    *,
    credentials: Credentials,
    base_url: str | None,
    timeout: float | httpx.Timeout | None,
    config: ClientConfig | None,
    retry: RetryConfig | None,
    http_backend: HttpBackend,
) -> Settings:
    """Check and fix a client's settings (``base_url`` falls back to ``VIKSA_BASE_URL``)."""
    setup_from_env()
    guard_transport_log()
    if http_backend not in ("httpx", "aiohttp"):
        raise ViksaConfigError(f"http_backend must be 'httpx' or 'aiohttp', got {http_backend!r}")
    config = config or ClientConfig()
    checked_timeout(timeout, "timeout")
    source = "base_url" if base_url else "VIKSA_BASE_URL"
    from_env = os.environ.get("VIKSA_BASE_URL", "").strip()  # as from_env reads it
    url = (base_url or from_env or DEFAULT_BASE_URL).rstrip("/")
    if not _usable_url(url):
        raise ViksaConfigError(
            f"{source} must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {_shown_url(url)!r}"
        )
    parsed = httpx.URL(url)
    if parsed.userinfo:
        # httpx sends a URL's user info as Basic auth in place of the Authorization
        # header the client sets: every call would go without its key (a 401), and the
        # URL's password to the platform.
        raise ViksaConfigError(
            f"{source} must not hold a user name or password, got {_shown_url(url)!r}: "
            "the client signs every request with its API key or token, which they would "
            "replace; remove them from the URL"
        )
    check_headers(config.default_headers, "ClientConfig.default_headers")
    if config.user_agent is not None:
        check_headers({"User-Agent": config.user_agent}, "ClientConfig.user_agent")
    headers = httpx.Headers(
        {
            "Accept": "application/json",
            "User-Agent": config.user_agent or f"viksa-client/{__version__}",
        }
    )
    # Case-insensitively: a dict kept "user-agent" next to "User-Agent", and sent both.
    headers.update(config.default_headers)
    return Settings(
        base_url=url,
        config=config,
        retry=retry or config.retry,
        timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        http_backend=http_backend,
        credentials=credentials,
        insecure=parsed.scheme == "http" and not _is_loopback(parsed.host),
        static_headers=headers,
    )


def twin_settings(settings: Settings) -> Settings:
    """The settings of a blocking twin: same credentials object, httpx transport."""
    return replace(settings, http_backend="httpx")
