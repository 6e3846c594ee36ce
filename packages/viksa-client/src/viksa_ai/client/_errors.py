"""The exceptions of the client: one base class, transport errors and API errors.

``str(error)`` is one readable line naming the service, the request, the status, the
first message and the request id. Secrets never reach it: request paths are shown
without their query, and bodies are scrubbed of the call's secrets before they are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ErrorDetail",
    "ViksaApiError",
    "ViksaAuthenticationError",
    "ViksaConfigError",
    "ViksaConflictError",
    "ViksaDecodeError",
    "ViksaError",
    "ViksaNotFoundError",
    "ViksaPermissionError",
    "ViksaRateLimitError",
    "ViksaRepeatedPageError",
    "ViksaResponseTooLargeError",
    "ViksaServerError",
    "ViksaTimeoutError",
    "ViksaTransportError",
    "ViksaValidationError",
    "printable",
]


@dataclass(frozen=True)
class ErrorDetail:
    """One problem reported by the platform: a message, the field it concerns, a code."""

    message: str
    field: str | None = None
    code: str | None = None


class ViksaError(Exception):
    """Base class of every error raised by the Viksa client."""

    def __reduce__(self) -> tuple[Any, ...]:
        # The subclasses take keyword arguments, which Exception's default pickling
        # cannot pass; the raw response (sockets, streams) is not carried over.
        state = {name: value for name, value in vars(self).items() if name != "response"}
        return (_rebuild, (type(self), self.args, state))


def _rebuild(cls: type[ViksaError], args: tuple[Any, ...], state: dict[str, Any]) -> ViksaError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    vars(error).update(state)
    if isinstance(error, ViksaApiError):
        error.response = None
    return error


class ViksaConfigError(ViksaError, ValueError):
    """Bad settings of the client, its environment or one call (say, an unsendable header)."""


class ViksaTransportError(ViksaError):
    """The request got no HTTP answer: connection failure, DNS, broken stream, timeout.

    ``url`` is where the client tried to go (scheme, host and port only) when known.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        service: str | None = None,
        url: str | None = None,
    ) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.service = service
        self.url = url
        where = " ".join(part for part in (service, method, path) if part)
        super().__init__(f"{where}: {message}" if where else message)


class ViksaTimeoutError(ViksaTransportError):
    """The request or stream did not complete within its timeout."""


class ViksaDecodeError(ViksaError):
    """A body or stream event that should hold JSON does not; ``raw`` holds its text."""

    def __init__(self, message: str, *, raw: str, event: str | None = None) -> None:
        self.raw = raw
        self.event = event
        super().__init__(message)


class ViksaRepeatedPageError(ViksaDecodeError):
    """A page walk (``iter_all``) got a page it had already got at another ``skip``.

    The server does not page consistently (say, it alternates between two pages):
    walking on would repeat those items without end. ``raw`` holds the repeated answer.
    """


class ViksaResponseTooLargeError(ViksaDecodeError):
    """An answer, or one event of a stream, is larger than the client buffers.

    ``limit`` is the cap in bytes (after decompression) and ``setting`` the
    ``ClientConfig`` field that sets it; ``raw`` is empty.
    """

    def __init__(self, message: str, *, limit: int, setting: str) -> None:
        self.limit = limit
        self.setting = setting
        super().__init__(message, raw="")


class ViksaApiError(ViksaError):
    """The platform answered with an error status; base class of the per-status errors.

    Attributes: ``status_code``, ``method``, ``path``, ``service``, ``body`` (the JSON or
    text answered, secrets of the call removed), ``details`` (list of ``ErrorDetail``),
    ``request_id`` (``X-Request-Id`` or ``X-Correlation-Id``), ``retry_after`` (seconds,
    from ``Retry-After`` / ``retry-after-ms`` when sent), ``detail_message`` (the first
    readable message) and ``response`` (the raw ``httpx.Response``).
    """

    def __init__(
        self,
        *,
        status_code: int,
        method: str,
        path: str,
        service: str,
        body: Any = None,
        details: list[ErrorDetail] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        self.status_code = status_code
        self.method = method
        self.path = path
        self.service = service
        self.body = body
        self.details: list[ErrorDetail] = list(details or [])
        self.request_id = request_id
        self.retry_after = retry_after
        self.response = response
        super().__init__(self._summary())

    @property
    def detail_message(self) -> str:
        """The first human-readable message, or the HTTP reason phrase when none came."""
        if self.details:
            return self.details[0].message
        return _reason_phrase(self.status_code)

    def _headline(self) -> str:
        # "Field required" alone does not say what to fix: name the field, and how many
        # other problems the answer lists (they are in ``details``).
        if not self.details:
            return _one_line(self.detail_message)
        first = self.details[0]
        text = first.message
        if first.field and not _names(text, first.field.rsplit(".", 1)[-1]):
            text = f"{first.field}: {text}"
        text = _one_line(text)  # cut before the count, which must stay readable
        # A detail the first one quotes (a failed refresh quotes its cause) is not another.
        # Only the next few are searched for: each search reads the whole first message,
        # and a hostile answer may pair a huge one with thousands of details.
        others = len(self.details) - 1
        for detail in self.details[1:_QUOTES_SEARCHED]:
            if detail.field is None and detail.message in first.message:
                others -= 1
        if others:
            text += f" (and {others} more problem{'s' if others > 1 else ''})"
        return text

    def _summary(self) -> str:
        line = f"{self.service} {self.method} {self.path} -> {self.status_code}"
        message = self._headline()
        if message:
            line += f": {message}"
        if self.request_id:
            line += f" (request id {_one_line(self.request_id)})"
        return line

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._summary()!r})"


class ViksaAuthenticationError(ViksaApiError):
    """401: the token or API key is missing, invalid or expired (and refresh failed)."""


class ViksaPermissionError(ViksaApiError):
    """403: the credentials are valid but not allowed here (RBAC or tenant denial)."""


class ViksaNotFoundError(ViksaApiError):
    """404: the resource does not exist (or is not visible to this tenant)."""


class ViksaConflictError(ViksaApiError):
    """409: the request conflicts with the resource's current state."""


class ViksaValidationError(ViksaApiError):
    """422: the request body or query failed validation; see ``details`` per field."""


class ViksaRateLimitError(ViksaApiError):
    """429: too many requests; ``retry_after`` says how long to wait when the server sent it."""


class ViksaServerError(ViksaApiError):
    """5xx: the platform or its gateway failed."""


# Tracebacks and reprs name the public home of each class, not this private module.
for _public in (
    ErrorDetail,
    ViksaError,
    ViksaConfigError,
    ViksaTransportError,
    ViksaTimeoutError,
    ViksaDecodeError,
    ViksaRepeatedPageError,
    ViksaResponseTooLargeError,
    ViksaApiError,
    ViksaAuthenticationError,
    ViksaPermissionError,
    ViksaNotFoundError,
    ViksaConflictError,
    ViksaValidationError,
    ViksaRateLimitError,
    ViksaServerError,
):
    _public.__module__ = "viksa_ai.client"
del _public

_MAX_MESSAGE = 300
_QUOTES_SEARCHED = 9  # details after the first searched for in it (see _headline)


# Controls (ESC, CSI: a message must not drive the terminal showing it) and lone
# surrogates (json.loads makes them of "\ud800"; print and UTF-8 log handlers fail on them).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with its control characters and lone surrogates shown as U+FFFD: fit for
    a message, whatever the platform (or a proxy) wrote in it."""
    return _UNPRINTABLE.sub("\ufffd", text)


def _one_line(text: str) -> str:
    """Collapse whitespace runs (newlines included), replace what cannot be shown, and
    cut long messages."""
    flat = printable(" ".join(text.split()))
    return flat if len(flat) <= _MAX_MESSAGE else flat[: _MAX_MESSAGE - 3] + "..."


def _names(text: str, word: str) -> bool:
    """Whether ``text`` holds ``word`` as a word of its own (``name`` in "input 'name'")."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def _reason_phrase(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""
