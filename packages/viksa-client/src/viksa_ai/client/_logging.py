"""Logging through the ``viksa_ai`` logger, with secrets redacted.

``VIKSA_LOG=debug`` or ``VIKSA_LOG=info`` turns it on (a stderr handler on the
``viksa_ai`` logger) when no handler is configured yet. Debug lines show each request
with its headers, secrets redacted; info lines show retries and token refreshes.
Bodies are never logged.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

__all__ = [
    "REDACTED",
    "guard_transport_log",
    "logger",
    "redact_headers",
    "redact_url",
    "setup_from_env",
]

logger = logging.getLogger("viksa_ai.client")

REDACTED = "[redacted]"

_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
_SECRET_WORDS = ("token", "secret", "password", "passphrase", "key", "auth", "signature")
_configured = False


def setup_from_env() -> None:
    """Apply ``VIKSA_LOG`` once per process (idempotent and cheap after the first call)."""
    global _configured
    if _configured:
        return
    _configured = True
    level = os.environ.get("VIKSA_LOG", "").strip().lower()
    if level not in ("debug", "info"):
        return
    root = logging.getLogger("viksa_ai")
    root.setLevel(logging.DEBUG if level == "debug" else logging.INFO)
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        root.addHandler(handler)


class _TransportLogFilter(logging.Filter):
    """Redact secrets from the log lines of httpx and httpcore, as from ours.

    httpx logs each request's full URL at INFO, so an application configured with
    ``logging.basicConfig(level=logging.INFO)`` logged query secrets, such as the
    passphrase of ``get_secret``, which the wire contract puts in the query. httpcore
    logs each answer's headers at DEBUG, a ``Set-Cookie`` value included, and hpack (an
    ``http2=True`` client's) each request's and answer's, ``Authorization`` included.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, Mapping):  # logging's form of a single mapping argument
            record.args = _redacted_arg(args)
        elif isinstance(args, tuple) and args:
            record.args = tuple(_redacted_arg(arg) for arg in args)
        elif isinstance(record.msg, str) and "headers" in record.msg:
            record.msg = re.sub(_HEADER_TUPLE, _redact_header_tuple, record.msg)
        return True


def _redacted_arg(arg: Any) -> Any:
    """A log record's argument with its secrets redacted: a URL's, or a header's (a
    ``(name, value)`` pair, a list of them, or a mapping), as hpack logs them."""
    if isinstance(arg, httpx.URL):
        return redact_url(str(arg))
    if _is_header_pair(arg):
        return (arg[0], _redacted_value(arg[0], arg[1]))
    if isinstance(arg, list) and any(_is_header_pair(item) for item in arg):
        return [_redacted_arg(item) for item in arg]
    if isinstance(arg, Mapping):
        return {
            name: _redacted_value(name, value) if isinstance(name, (str, bytes)) else value
            for name, value in arg.items()
        }
    return arg


def _is_header_pair(arg: object) -> bool:
    return (
        isinstance(arg, tuple)
        and len(arg) == 2
        and all(isinstance(part, (str, bytes)) for part in arg)
    )


def _redacted_value(name: str | bytes, value: Any) -> Any:
    if not _is_secret_header(name):
        return value
    return REDACTED.encode() if isinstance(value, bytes) else REDACTED


# A header as httpcore's trace shows it: (b'Name', b'value'), either quote in the reprs.
_BYTES_REPR = r"b'(?:[^'\\]|\\.)*'" + "|" + r'b"(?:[^"\\]|\\.)*"'
# A string: re compiles (and caches) it on first use, not when the client is imported.
_HEADER_TUPLE = rf"\(({_BYTES_REPR}), ({_BYTES_REPR})\)"


def _redact_header_tuple(match: re.Match[str]) -> str:
    name = match.group(1)
    if not _is_secret_header(name[2:-1]):
        return match.group()
    return f"({name}, b'{REDACTED}')"


_TRANSPORT_LOGGERS = (
    "httpx",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "hpack.hpack",
    "hpack.table",
)
_transport_log_guarded = False


def guard_transport_log() -> None:
    """Make the log lines of httpx, httpcore and hpack redact secrets like ours (once per
    process)."""
    global _transport_log_guarded
    if _transport_log_guarded:
        return
    _transport_log_guarded = True
    log_filter = _TransportLogFilter()
    for name in _TRANSPORT_LOGGERS:
        logging.getLogger(name).addFilter(log_filter)


def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_HEADERS or any(word in lowered for word in _SECRET_WORDS)


def _is_secret_header(name: str | bytes) -> bool:
    # Header settings may name headers in bytes, which httpx accepts as well.
    text = name.decode("latin-1") if isinstance(name, bytes) else name
    return _is_secret_name(text) and text.lower() != "idempotency-key"


def redact_headers(headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> dict[str, str]:
    """Headers to log: every credential-like value replaced."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {name: REDACTED if _is_secret_header(name) else value for name, value in items}


def redact_url(url: str) -> str:
    """A URL to log: user info dropped, credential-like query values replaced."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if not parts.query:
        return urlunsplit((parts.scheme, netloc, parts.path, "", parts.fragment))
    query = [
        (name, REDACTED if _is_secret_name(name) else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), parts.fragment))
