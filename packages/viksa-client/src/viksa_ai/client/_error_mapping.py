"""Turn an error answer into the matching ``ViksaApiError``.

Understands every error shape the platform's services send: FastAPI's ``{"detail": ...}``
with a string, an object ``{"message", "code", "field"}`` or a list of
``{"loc", "msg", "type"}``; and ``{"message": ...}`` or ``{"error": ...}`` bodies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import httpx

from viksa_ai.client._errors import (
    ErrorDetail,
    ViksaApiError,
    ViksaAuthenticationError,
    ViksaConflictError,
    ViksaNotFoundError,
    ViksaPermissionError,
    ViksaRateLimitError,
    ViksaServerError,
    ViksaValidationError,
)
from viksa_ai.client._logging import REDACTED
from viksa_ai.client._retry import parse_retry_after

__all__ = [
    "api_error",
    "decode_error_body",
    "error_class",
    "parse_details",
    "parse_error_details",
    "raise_for_response",
    "request_id",
    "scrub",
    "scrub_cut",
]

_BY_STATUS: dict[int, type[ViksaApiError]] = {
    401: ViksaAuthenticationError,
    403: ViksaPermissionError,
    404: ViksaNotFoundError,
    409: ViksaConflictError,
    422: ViksaValidationError,
    429: ViksaRateLimitError,
}

# FastAPI puts where the value came from first in "loc"; the field is what follows.
_LOC_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def error_class(status_code: int) -> type[ViksaApiError]:
    """The exception class for an error status."""
    if status_code >= 500:
        return ViksaServerError
    return _BY_STATUS.get(status_code, ViksaApiError)


def request_id(headers: httpx.Headers) -> str | None:
    """The request id the gateway answered (``X-Request-Id`` or ``X-Correlation-Id``)."""
    value: str | None = headers.get("x-request-id") or headers.get("x-correlation-id")
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _detail_from_object(item: dict[str, Any]) -> ErrorDetail | None:
    message = _text(item.get("message", item.get("msg", item.get("detail"))))
    if message is None:
        return None
    field = item.get("field")
    loc = item.get("loc")
    if field is None and isinstance(loc, list):
        parts = [str(part) for part in loc]
        if parts and parts[0] in _LOC_SOURCES and len(parts) > 1:
            parts = parts[1:]
        field = ".".join(parts) or None
    code = item.get("code", item.get("type"))
    return ErrorDetail(
        message=message,
        field=None if field is None else str(field),
        code=None if code is None else str(code),
    )


def _details_from(value: Any) -> list[ErrorDetail]:
    if isinstance(value, str):
        return [ErrorDetail(message=value)] if value else []
    if isinstance(value, dict):
        detail = _detail_from_object(value)
        return [detail] if detail else [ErrorDetail(message=_text(value) or "")]
    if isinstance(value, list):
        found: list[ErrorDetail] = []
        for item in value:
            found.extend(_details_from(item))
        return found
    if value is None:
        return []
    return [ErrorDetail(message=str(value))]


def parse_details(body: Any) -> list[ErrorDetail]:
    """Every ``ErrorDetail`` an error body holds, in order.

    A lone surrogate (json.loads makes one of ``"\\ud800"``) shows as U+FFFD: printed
    as it was, it failed with ``UnicodeEncodeError``.
    """
    return [_encodable(detail) for detail in _parse_details(body)]


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _encodable(detail: ErrorDetail) -> ErrorDetail:
    """``detail`` with its lone surrogates replaced by U+FFFD."""
    if not _LONE_SURROGATE.search(f"{detail.message}{detail.field}{detail.code}"):
        return detail
    field, code = detail.field, detail.code
    return ErrorDetail(
        _LONE_SURROGATE.sub("\ufffd", detail.message),
        None if field is None else _LONE_SURROGATE.sub("\ufffd", field),
        None if code is None else _LONE_SURROGATE.sub("\ufffd", code),
    )


def _parse_details(body: Any) -> list[ErrorDetail]:
    if isinstance(body, dict):
        for key in ("detail", "message", "error", "errors"):
            if key in body and body[key] is not None:
                details = _details_from(body[key])
                if details:
                    # {"error": "x", "message": "y"} style bodies: keep a code if sent.
                    code = body.get("code")
                    if code is not None and len(details) == 1 and details[0].code is None:
                        details = [ErrorDetail(details[0].message, details[0].field, str(code))]
                    return details
        return []
    if isinstance(body, str):
        stripped = body.strip()
        return [ErrorDetail(message=stripped)] if stripped else []
    return _details_from(body)


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of ``value`` (JSON or text) with every secret string replaced.

    FastAPI's 422 answers echo the submitted input, a password included: the error kept
    for the user must not. Each secret is found raw and in the forms a server echoing a
    request writes it: percent-encoded (either hex case), ``+`` for a space, and with
    JSON string escapes, mixed in any way.
    """
    needles = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
    if not needles:
        return value
    return _scrub(value, _secret_pattern(needles))


def scrub_cut(text: str, secrets: Iterable[str], limit: int, *, cut_short: bool = False) -> str:
    """The first ``limit`` characters of ``text``, every secret in them scrubbed.

    A secret straddling the cut is scrubbed whole, where cutting first would keep its
    start. ``cut_short`` says ``text`` itself may end inside a secret (the start of a
    body, read no further): a start of a secret ending it is dropped too.
    """
    needles = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
    if not needles:
        return text[:limit]
    # Every echo starting before `limit` ends in this window: a character's longest
    # echoed form is 12 long (four %XX bytes, or a \uXXXX surrogate pair).
    window = text[: limit + 12 * len(needles[0])]
    parts: list[str] = []
    kept = 0  # where the text not yet copied starts
    for match in _secret_pattern(needles).finditer(window):
        if match.start() >= limit:
            break
        parts += (window[kept : match.start()], REDACTED)
        kept = match.end()
    rest = window[kept:]
    if cut_short:
        rest = _drop_trailing_start(rest, needles)
    parts.append(rest[: max(limit - kept, 0)])
    return "".join(parts)[:limit]


def _drop_trailing_start(text: str, needles: tuple[str, ...]) -> str:
    """``text`` without the longest start of one of ``needles`` that ends it."""
    longest = 0
    for needle in needles:
        for size in range(min(len(needle) - 1, len(text)), longest, -1):
            if text.endswith(needle[:size]):
                longest = size
                break
    return text[: len(text) - longest]


@lru_cache(maxsize=64)
def _secret_pattern(needles: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join("".join(map(_char_forms, needle)) for needle in needles))


def _char_forms(char: str) -> str:
    """A pattern matching ``char`` raw, percent-encoded or JSON-escaped."""
    forms = [re.escape(char)]
    forms.append("".join(f"%{_hex_digits(byte, 2)}" for byte in char.encode("utf-8")))
    if char == " ":
        forms.append(r"\+")
    if char in '"\\/':
        forms.append(re.escape("\\" + char))
    short = _JSON_SHORT.get(char)
    if short is not None:
        forms.append(re.escape(short))
    code = ord(char)
    units = [code] if code < 0x10000 else _surrogates(code)
    forms.append("".join(rf"\\u{_hex_digits(unit, 4)}" for unit in units))
    return f"(?:{'|'.join(forms)})"


_JSON_SHORT = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _hex_digits(number: int, width: int) -> str:
    """A pattern for ``number`` in hex, each letter in either case."""
    digits = f"{number:0{width}X}"
    return "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in digits)


def _surrogates(code: int) -> list[int]:
    code -= 0x10000
    return [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]


def _scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, dict):
        return {_scrub(k, pattern): _scrub(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(item, pattern) for item in value]
    return value


def decode_error_body(response: httpx.Response) -> Any:
    """The JSON (or text) of an error answer whose body was read; None when empty."""
    content = response.content
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return response.text


def api_error(
    response: httpx.Response,
    *,
    method: str,
    path: str,
    service: str,
    secrets: Iterable[str] = (),
) -> ViksaApiError:
    """Build the typed error for an error answer whose body has been read."""
    try:
        body = scrub(decode_error_body(response), secrets)
        details = parse_details(body)
    except RecursionError:
        # JSON nested deeper than the stack: the error keeps the body as text instead.
        body = scrub(response.text, secrets)
        details = parse_details(body)
    cls = error_class(response.status_code)
    return cls(
        status_code=response.status_code,
        method=method,
        path=path,
        service=service,
        body=body,
        details=details,
        request_id=request_id(response.headers),
        retry_after=parse_retry_after(response.headers),
        response=response,
    )


def parse_error_details(body: Any) -> list[ErrorDetail]:
    """The ``ErrorDetail`` list of a decoded error body (the 0.2 name of ``parse_details``).

    ``body`` is the JSON (or text) an error answer carried; an empty list when it holds
    no readable message.
    """
    return parse_details(body)


def raise_for_response(
    response: httpx.Response,
    *,
    service: str,
    method: str,
    path: str,
) -> None:
    """Raise the ``ViksaApiError`` subclass for ``response`` if its status is 400 or more.

    For answers obtained outside the client (kept from 0.2): a success status returns
    ``None``. A streamed response must be read (``response.read()``) first.
    """
    if response.status_code >= 400:
        raise api_error(response, method=method, path=path, service=service)
