"""The request pipeline's policy, written once for the async client and its sync twin.

headers (auth, tenant, idempotency) -> send -> retry / refresh -> map errors -> decode.
Only sending, sleeping and locking differ between the two clients; every decision they
take is a function of this module.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx

from viksa_ai.client._call import Call
from viksa_ai.client._config import RequestOptions, RetryConfig
from viksa_ai.client._decode import RAW_LIMIT, json_bytes, parse_body, to_json_body
from viksa_ai.client._error_mapping import (
    api_error,
    decode_error_body,
    parse_details,
    request_id,
    scrub,
    scrub_cut,
)
from viksa_ai.client._errors import (
    ViksaApiError,
    ViksaConfigError,
    ViksaDecodeError,
    ViksaRepeatedPageError,
    ViksaTimeoutError,
    ViksaTransportError,
    printable,
)
from viksa_ai.client._headers import check_headers
from viksa_ai.client._limits import BodyBuffer
from viksa_ai.client._logging import logger, redact_headers, redact_url
from viksa_ai.client._recording import record
from viksa_ai.client._retry import (
    WRITE_METHODS,
    is_timeout,
    may_have_reached_server,
    parse_retry_after,
    retry_delay,
)
from viksa_ai.client._settings import Settings, ViksaInsecureTransportWarning
from viksa_ai.client._tracing import trace_event

if TYPE_CHECKING:
    from httpx._client import UseClientDefault

    from viksa_ai.models.auth import TokenResponse

__all__ = [
    "Plan",
    "RequestDefaults",
    "answer_buffer",
    "api_failure",
    "deadline_passed",
    "finish",
    "is_event_stream",
    "keep_body",
    "key_in_use",
    "make_plan",
    "make_request",
    "not_an_event_stream",
    "opened_stream",
    "response_retry_delay",
    "scrub_secrets",
    "time_left",
    "transport_failure",
    "transport_retry_delay",
    "undecodable_body",
    "undecodable_stream",
]

T = TypeVar("T")


@dataclass(slots=True)
class Plan:
    """One call made concrete: URL, headers and policy, fixed before the first attempt.

    ``target`` is the path shown in errors and logs (no query: it may hold a secret).

    ``headers`` holds this call's own headers (the idempotency key); the client's
    static headers and the credentials are added per attempt. ``stream`` leaves the body
    unread for the caller to iterate. ``content`` is ``body`` encoded, by the first
    attempt (every retry sends the same bytes).
    """

    call: Call[Any]
    target: str
    # Out of the repr, like the call's own: the URL's user info, a query, a body or a
    # caller's header may hold a secret.
    url: str = field(repr=False)
    params: dict[str, Any] | None = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    extra_headers: Mapping[str, str] | None = field(repr=False)
    body: Any = field(repr=False)
    retry: RetryConfig
    timeout: float | httpx.Timeout | None
    idempotency_key: str | None
    started: float
    secrets: tuple[str, ...] = field(repr=False)
    stream: bool
    content: bytes | None = field(default=None, repr=False)

    @property
    def service(self) -> str:
        return self.call.service.name

    @property
    def method(self) -> str:
        return self.call.method


def make_plan(
    settings: Settings, call: Call[Any], options: RequestOptions | None, *, stream: bool = False
) -> Plan:
    """Fix everything about a call that does not change between attempts."""
    target = call.target()
    params: dict[str, Any] | None = dict(call.query) if call.query else None
    headers: dict[str, str] = {}
    key: str | None = None
    if call.method in WRITE_METHODS:
        config = settings.config
        key = (options.idempotency_key if options else None) or config.idempotency_key
        if key is None and config.auto_idempotency_keys:
            key = f"viksa-{os.urandom(16).hex()}"  # 128 random bits, like a uuid4
        elif key is not None:
            check_headers({"Idempotency-Key": key}, "idempotency_key")
        if key is not None:
            headers["Idempotency-Key"] = key
    extra_headers = None
    retry = settings.retry
    timeout: float | httpx.Timeout | None = None
    if options is not None:
        if options.extra_query:
            params = {**(params or {}), **options.extra_query}
        extra_headers = options.extra_headers
        if extra_headers:
            check_headers(extra_headers, "RequestOptions.extra_headers")
        retry = options.retry or retry
        timeout = options.timeout
    return Plan(
        call=call,
        # Rendered ids encode ? and #: only a raw path may hold a query (rendered once).
        target=call.shown_target() if call.raw_path else target,
        url=settings.base_url + target,
        params=params,
        headers=headers,
        extra_headers=extra_headers,
        body=None if call.body is None else to_json_body(call.body),
        retry=retry,
        timeout=timeout,
        idempotency_key=key,
        started=time.monotonic(),
        secrets=call.secrets,
        stream=stream,
    )


_BODY_HEADERS = (("Content-Length", "content-length"), ("Content-Type", "content-type"))
_URLS_KEPT = 256


@dataclass(frozen=True, slots=True)
class RequestDefaults:
    """What each request must carry because the httpx client does not already.

    ``body_headers_set`` are the body headers (lowercase) the client's static headers
    set: a JSON body's own are not added over them. ``urls`` keeps the URLs calls went
    to, parsed (see ``url``).
    """

    headers: httpx.Headers
    timeout: httpx.Timeout | UseClientDefault
    body_headers_set: frozenset[str] = frozenset()
    urls: dict[str, httpx.URL] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def for_client(cls, settings: Settings, *, own: bool) -> RequestDefaults:
        """For a client the SDK built (``own``) or one the caller gave."""
        static = settings.static_headers
        taken = frozenset(lower for _, lower in _BODY_HEADERS if lower in static)
        if own:
            return cls(httpx.Headers(), httpx.USE_CLIENT_DEFAULT, taken)
        return cls(static, settings.timeout, taken)

    def url(self, url: str) -> httpx.URL | str:
        """``url`` parsed, as httpx would parse it: once per client for a URL with no query.

        httpx parses a ``str`` URL on every request, the largest part of building one; a
        parsed ``httpx.URL`` it takes as it is. A URL with a query or a fragment (a raw
        path's) is left to httpx, not kept: it may hold a secret (``?api_key=``). The
        cache is emptied when full, the cheapest bound for ids that keep changing.
        """
        parsed = self.urls.get(url)
        if parsed is not None:
            return parsed
        if "?" in url or "#" in url:
            return url
        if len(self.urls) >= _URLS_KEPT:
            self.urls.clear()
        parsed = self.urls[url] = httpx.URL(url)
        return parsed


def make_request(
    http: httpx.AsyncClient | httpx.Client,
    plan: Plan,
    settings: Settings,
    defaults: RequestDefaults,
) -> httpx.Request:
    """Build one attempt's request with the credentials as they are now.

    Headers merge case-insensitively, later ones winning: the client's static ones, the
    credentials and tenant, the idempotency key, then the call's ``extra_headers``. A
    plain dict would send ``idempotency-key`` next to ``Idempotency-Key``, both.
    """
    headers: dict[str, str] | httpx.Headers
    # The static headers are the caller's spelling: only then can two names collide.
    headers = httpx.Headers(defaults.headers) if defaults.headers else {}
    credentials = settings.credentials
    if plan.call.authenticated:
        authorization = credentials.authorization
        if authorization is not None:
            headers["Authorization"] = authorization
            if settings.insecure and not settings.warned_insecure:
                settings.warned_insecure = True
                warnings.warn(
                    f"sending credentials over plain http to {redact_url(settings.base_url)}: "
                    "use an https base_url outside local development",
                    ViksaInsecureTransportWarning,
                    # make_request, _attempt, _send, _request, the operation, its caller
                    stacklevel=6,
                )
        if credentials.webhook_token is None:  # webhooks carry no tenant
            if credentials.org_id:
                headers["X-Tenant-Org-Id"] = credentials.org_id
            if credentials.project_id:
                headers["X-Tenant-Project-Id"] = credentials.project_id
    if plan.headers:
        headers.update(plan.headers)
    if plan.extra_headers:
        headers = httpx.Headers(headers)
        headers.update(plan.extra_headers)
    timeout: float | httpx.Timeout | UseClientDefault
    if plan.retry.deadline is None:
        timeout = defaults.timeout if plan.timeout is None else plan.timeout
    else:
        timeout = _deadline_timeout(
            plan, settings.timeout if plan.timeout is None else plan.timeout
        )
    try:
        content = None
        if plan.body is not None:
            content = plan.content
            if content is None:
                content = plan.content = json_bytes(plan.body)
            _add_json_headers(http, plan, defaults, headers, len(content))
        request = http.build_request(
            plan.method,
            defaults.url(plan.url),
            params=plan.params,
            headers=headers,
            content=content,
            timeout=timeout,
        )
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        # A line break in a raw path, a body json cannot encode: nothing was sent.
        raise ViksaConfigError(
            f"{plan.service} {plan.method}: the request cannot be sent: "
            f"{_loggable_text(str(exc), plan, settings)[:300]}"
        ) from exc
    if logger.isEnabledFor(10):  # DEBUG
        logger.debug(
            "request %s %s headers=%s",
            plan.method,
            _loggable_url(request.url, plan, settings),
            redact_headers(request.headers.multi_items()),
        )
    return request


def _add_json_headers(
    http: httpx.AsyncClient | httpx.Client,
    plan: Plan,
    defaults: RequestDefaults,
    headers: dict[str, str] | httpx.Headers,
    length: int,
) -> None:
    """The headers httpx adds to a ``json=`` body, added as it does: last, and never over
    a ``Content-Length`` or ``Content-Type`` the caller set (in the client's static headers,
    the call's ``extra_headers`` or on the httpx client, whose headers may change).

    The body goes as ``content=`` (bytes encoded once, by ``json_bytes``), for which httpx
    adds no ``Content-Type``. ``headers`` is an ``httpx.Headers`` whenever it holds
    ``extra_headers``.
    """
    values = (str(length), "application/json")
    for (name, lower), value in zip(_BODY_HEADERS, values, strict=True):
        if lower in defaults.body_headers_set or lower in http.headers:
            continue
        if plan.extra_headers and name in headers:
            continue
        headers[name] = value


def _loggable_url(url: httpx.URL, plan: Plan, settings: Settings) -> str:
    return scrub_secrets(redact_url(str(url)), plan.call, settings)


def time_left(plan: Plan) -> float | None:
    """Seconds left of the call's deadline (at least a millisecond); None without one."""
    deadline = plan.retry.deadline
    if deadline is None:
        return None
    return max(deadline - (time.monotonic() - plan.started), 0.001)


def deadline_passed(plan: Plan) -> str:
    """The message of a call cut by its deadline."""
    return (
        f"no complete answer within the call's deadline (RetryConfig(deadline="
        f"{plan.retry.deadline:g})); raise the deadline if the platform is expected to "
        "take longer"
    )


def _deadline_timeout(plan: Plan, timeout: float | httpx.Timeout) -> httpx.Timeout:
    """The attempt's timeout, each phase cut to what is left of the call's deadline."""
    left = time_left(plan)
    assert left is not None
    full = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)

    def cut(seconds: float | None) -> float:
        return left if seconds is None else min(seconds, left)

    # A stream's read timeout bounds every later chunk too: the deadline covers opening it.
    read = full.read if plan.stream else cut(full.read)
    return httpx.Timeout(
        connect=cut(full.connect), read=read, write=cut(full.write), pool=cut(full.pool)
    )


def _planned_wait(plan: Plan, attempt: int, delay: float, reason: str) -> float | None:
    """``delay``, logged, when the retry it precedes ends within the deadline; else None."""
    deadline = plan.retry.deadline
    if deadline is not None and time.monotonic() - plan.started + delay > deadline:
        return None
    logger.info(
        "retrying %s %s in %.2fs after %s (retry %d of %d)",
        plan.method,
        plan.target,
        delay,
        reason,
        attempt + 1,
        plan.retry.max_retries,
    )
    trace_event("viksa.retry", {"viksa.retry.reason": reason, "viksa.retry.delay_s": delay})
    return delay


def answer_buffer(plan: Plan, settings: Settings, response: httpx.Response) -> BodyBuffer:
    """Where an attempt's body is read: capped, and cut rather than refused for errors."""
    buffer = BodyBuffer(
        f"{plan.service} {plan.method} {plan.target}",
        settings.config.max_answer_bytes,
        cut=not response.is_success,
    )
    buffer.expect(response)
    return buffer


def keep_body(response: httpx.Response, body: BodyBuffer) -> None:
    """Make the body read by the pipeline the response's ``content``."""
    # What httpx's own read() does; the body was read chunk by chunk to cap it.
    response._content = body.content()


def undecodable_body(plan: Plan, exc: httpx.DecodingError) -> ViksaDecodeError:
    """The error for a body its ``Content-Encoding`` cannot decode (a bad gzip stream)."""
    return ViksaDecodeError(
        f"{plan.service} {plan.method} {plan.target}: {_UNDECODABLE} ({type(exc).__name__})",
        raw="",
    )


def undecodable_stream(exc: httpx.DecodingError) -> ViksaDecodeError:
    """``undecodable_body`` for an event stream, found while reading its events."""
    return ViksaDecodeError(f"the event stream: {_UNDECODABLE} ({type(exc).__name__})", raw="")


_UNDECODABLE = "the answer's body does not decode as its Content-Encoding says"


def scrub_secrets(raw: str, call: Call[Any], settings: Settings) -> str:
    """Server text fit to keep in an error or a log: every secret of the call and the
    client scrubbed, in any encoding."""
    return str(scrub(raw, (*call.secrets, *settings.credentials.secrets())))


def transport_retry_delay(plan: Plan, attempt: int, exc: httpx.TransportError) -> float | None:
    """The wait before retrying after a transport error, or ``None`` to give up."""
    retry = plan.retry
    if attempt >= retry.max_retries or not retry.retry_connection_errors:
        return None
    if (
        plan.method in WRITE_METHODS
        and plan.idempotency_key is None
        and may_have_reached_server(exc)
    ):
        return None  # the write may have been applied: only a key makes a retry safe
    return _planned_wait(plan, attempt, retry_delay(retry, attempt, None), type(exc).__name__)


def response_retry_delay(plan: Plan, attempt: int, response: httpx.Response) -> float | None:
    """The wait before retrying after an error status, or ``None`` to give up.

    The body must have been read. A 409 saying the call's own Idempotency-Key is still
    in use (its first attempt still runs) is retried with backoff; with a deadline, until
    the deadline rather than ``max_retries`` times.
    """
    retry = plan.retry
    if retry.max_retries == 0:
        return None
    if key_in_use(plan, response):
        if retry.deadline is None and attempt >= retry.max_retries:
            return None
        delay = retry_delay(retry, attempt, parse_retry_after(response.headers))
        return _planned_wait(plan, attempt, delay, "409: the Idempotency-Key is in use")
    if attempt >= retry.max_retries or response.status_code not in retry.retry_status_codes:
        return None
    if plan.method in WRITE_METHODS and plan.idempotency_key is None:
        return None  # the server saw this write: only a key makes a retry safe
    hint = parse_retry_after(response.headers)
    if hint is not None and hint > retry.max_delay:
        return None  # longer than this policy waits: the caller decides (error.retry_after)
    delay = retry_delay(retry, attempt, hint)
    return _planned_wait(plan, attempt, delay, f"status {response.status_code}")


_KEY_IN_USE_CODES = frozenset(
    {"idempotency_in_progress", "idempotency_key_in_use", "idempotency_key_in_progress"}
)
_KEY_IN_USE_TEXT = re.compile(
    r"idempotency[ _-]?key.{0,80}?\b(in use|still running|in progress|being processed)\b",
    re.IGNORECASE | re.DOTALL,
)


def key_in_use(plan: Plan, response: httpx.Response) -> bool:
    """Whether a 409 says this call's Idempotency-Key belongs to a request still running.

    The platform's ``detail.code`` (``idempotency_in_progress``) decides; a gateway's
    wording ("Idempotency-Key ... in use / still running") is understood too.
    """
    if response.status_code != 409 or plan.idempotency_key is None:
        return False
    try:
        details = parse_details(decode_error_body(response))
    except RecursionError:  # JSON nested deeper than the stack: not the platform's 409
        return False
    for detail in details:
        if detail.code in _KEY_IN_USE_CODES or _KEY_IN_USE_TEXT.search(detail.message[:500]):
            return True
    return False


def transport_failure(
    plan: Plan, settings: Settings, exc: httpx.TransportError
) -> ViksaTransportError:
    """The typed error for a transport failure (timeouts get ``ViksaTimeoutError``).

    It names where the client went (scheme, host and port: never credentials) and
    what to check.
    """
    timeout = is_timeout(exc)
    cls = ViksaTimeoutError if timeout else ViksaTransportError
    where = _origin(plan.url)
    # One line (aiohttp's messages span several), cut to a readable length.
    reason = " ".join(_loggable_text(str(exc) or type(exc).__name__, plan, settings).split())
    reason = reason[:500]
    if timeout:
        message = f"timed out waiting for {where}: {reason}"
        if plan.retry.deadline is None:
            message += "; raise the client's timeout (or RequestOptions(timeout=...)) if "
            message += "the platform is expected to take longer"
    elif isinstance(exc, httpx.LocalProtocolError):
        message = f"the request to {where} could not be sent: {reason}"
    elif not may_have_reached_server(exc):
        message = (
            f"could not connect to {where}: {reason}; check the base_url, that the "
            "platform is up and reachable from here (DNS, proxy, firewall, TLS)"
        )
    else:
        message = f"the connection to {where} failed: {reason}"
    return cls(message, method=plan.method, path=plan.target, service=plan.service, url=where)


def _origin(url: str) -> str:
    """``scheme://host:port`` of a URL, with no user info, path or query."""
    try:
        parsed = httpx.URL(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
        return f"{parsed.scheme}://{host}:{port}"
    except (httpx.InvalidURL, ValueError):
        return "the platform"


def api_failure(plan: Plan, settings: Settings, response: httpx.Response) -> ViksaApiError:
    """The typed error for an error status (the body must have been read)."""
    record(response)
    error = api_error(
        response,
        method=plan.method,
        path=plan.target,
        service=plan.service,
        secrets=(*plan.secrets, *settings.credentials.secrets()),
    )
    _log_response(plan, response)
    return error


def is_event_stream(response: httpx.Response) -> bool:
    """Whether a stream's successful answer is read as events.

    ``text/event-stream`` is; so is an answer with no ``Content-Type`` (some servers
    omit it); any other type (a JSON body, an HTML proxy page) is not.
    """
    content_type = response.headers.get("content-type")
    return content_type is None or _media_type(content_type) == "text/event-stream"


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def not_an_event_stream(
    plan: Plan, settings: Settings, response: httpx.Response, head: bytes
) -> ViksaDecodeError:
    """The error for a stream answered with another content type; ``head`` starts its body.

    Without it the decoder would find no event in such a body and the stream would end
    empty, as if the platform had nothing to say.
    """
    record(response)
    _log_response(plan, response)
    media_type = _media_type(response.headers.get("content-type", ""))[:100]
    return ViksaDecodeError(
        f"{plan.service} {plan.method} {plan.target}: expected an event stream "
        f"(text/event-stream), the platform answered {response.status_code} with "
        f"{media_type!r}; `raw` holds the start of the body",
        raw=_loggable_raw(head.decode("utf-8", "replace"), plan, settings, cut_short=True),
    )


def opened_stream(plan: Plan, response: httpx.Response) -> None:
    """Record and log a stream's response once it opened successfully."""
    record(response)
    _log_response(plan, response)


def _log_response(plan: Plan, response: httpx.Response) -> None:
    if logger.isEnabledFor(10):
        logger.debug(
            "response %s %s -> %d request_id=%s",
            plan.method,
            plan.target,
            response.status_code,
            request_id(response.headers),
        )


def finish(plan: Plan, settings: Settings, call: Call[T], response: httpx.Response) -> T:
    """Decode a successful answer (adopting tokens when the call asks for it)."""
    record(response)
    _log_response(plan, response)
    try:
        value = _decoded(call, response.content)
    except ViksaDecodeError as exc:
        # Its class is kept: a repeated page is told from an unreadable one.
        kind = (
            ViksaRepeatedPageError if isinstance(exc, ViksaRepeatedPageError) else ViksaDecodeError
        )
        raise kind(
            f"{plan.service} {plan.method} {plan.target}: {exc} {_answer_kind(response)}",
            raw=_loggable_raw(response.text, plan, settings),
        ) from None
    except ValueError as exc:  # a model's ValidationError
        raise ViksaDecodeError(
            f"{plan.service} {plan.method} {plan.target}: the answer does not match the "
            f"expected model ({_mismatch(exc)})",
            raw=_loggable_raw(response.text, plan, settings),
        ) from None
    if call.adopts_tokens:
        settings.credentials.adopt(cast("TokenResponse", value), call.switches_to)
    return value


def _decoded(call: Call[T], content: bytes) -> T:
    """The answer as ``call`` reads it: in one step when it can (``decode_json``), else
    decoded as JSON, then read by ``decode``.

    Only the one-step reader's success is taken. Pydantic's JSON parser refuses some text
    ``json.loads`` takes (a lone surrogate escape, a byte-order mark, nesting past 200)
    and words its errors its own way: on any failure the answer is read the long way,
    which gives the values and errors it always gave.
    """
    if call.decode_json is not None and content:
        try:
            return call.decode_json(content)
        except ValueError:  # a ValidationError: invalid JSON or not the model
            pass
    return call.decode(parse_body(content))


def _answer_kind(response: httpx.Response) -> str:
    """``(HTTP 200, text/html; ...)``: what came instead of JSON, and its likely cause."""
    content_type = response.headers.get("content-type", "no Content-Type").split(";")[0]
    content_type = printable(content_type)  # the answer's text: ESC would drive a terminal
    # An HTML page with a success status: a base_url that is some other web server.
    hint = "; is base_url the Viksa API?" if "html" in content_type.lower() else ""
    return f"(HTTP {response.status_code}, {content_type.strip()}{hint})"


def _loggable_raw(text: str, plan: Plan, settings: Settings, *, cut_short: bool = False) -> str:
    """The start of an answer, fit to keep in an error: secrets scrubbed, none for token
    answers. ``cut_short``: ``text`` is itself only the start of the body."""
    if plan.call.adopts_tokens:
        return ""
    secrets = (*plan.call.secrets, *settings.credentials.secrets())
    return scrub_cut(text, secrets, RAW_LIMIT, cut_short=cut_short)


def _loggable_text(text: str, plan: Plan, settings: Settings) -> str:
    return scrub_secrets(text, plan.call, settings)


def _mismatch(exc: ValueError) -> str:
    """What a model found wrong, without the values it was given (they may be tokens)."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return type(exc).__name__
    found: list[dict[str, Any]] = errors(include_url=False, include_input=False)
    parts = [f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in found[:3]]
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return printable("; ".join(parts) + more)  # a location may be a key the answer wrote
