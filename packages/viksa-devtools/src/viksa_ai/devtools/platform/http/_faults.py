"""Fault injection: make the platform misbehave on purpose so clients can be tested.

A fault spec is ``key=value`` pairs joined by ``;``, for example
``status=503;count=2;retry-after=1``. Keys (``-`` and ``_`` are the same):

- ``status``: answer this HTTP status (with a ``{"detail": ...}`` body) instead of
  running the route; ``retry-after`` adds that header (seconds).
- ``latency``: wait this many seconds (at most 30) before handling the request.
- ``drop``: run the route, then drop the connection after this many SSE events of a
  stream, or halfway through the body of any other answer.
- ``expire-token``: answer 401 "access token expired" as if the caller's token had
  run out (requests without a bearer token and the refresh/login routes are exempt).
- ``count``: how many requests the fault applies to (default 1, at most 1,000).
- ``method`` / ``path``: only requests with this method / whose path starts with this.
- ``id``: any text, to tell apart two otherwise identical header specs.

Per request, send the spec in the ``X-Viksa-Fault`` header: the first ``count``
requests carrying the same header value fail, later ones (a client's retries) pass.
Per run, arm specs with ``viksa dev --fault SPEC``, ``PlatformConfig.faults`` (every
project) or ``POST /_dev/faults`` (the local admin only, for its project unless it asks
for all: see ``_fault_admin``): they apply to the next ``count`` matching requests.
Bounds: ``latency`` 30 s, ``count`` 1,000, ``drop`` 10,000 events, ``retry-after``
3,600 s: a fault tests a client's retries, it must not tie the platform up for hours.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import anyio
import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from viksa_ai.devtools.platform.http._answers import send_json
from viksa_ai.devtools.platform.http._headers import first_headers, route_path

__all__ = [
    "FAULT_HEADER",
    "MAX_COUNT",
    "MAX_LATENCY_SECONDS",
    "DroppedConnection",
    "FaultMiddleware",
    "FaultRegistry",
    "FaultSpec",
    "FaultSpecError",
    "parse_fault_spec",
]

FAULT_HEADER = "x-viksa-fault"
# Where a fault came from, named in its answer so a tester knows what to disarm.
_FROM_HEADER = "X-Viksa-Fault header"
_FROM_CONFIG = "armed at start by viksa dev --fault or PlatformConfig.faults"
_FROM_API = "armed by POST /_dev/faults"
_EXEMPT_FROM_EXPIRY = ("/auth/refresh", "/auth/individual/login", "/auth/key/validate")
_MAX_TRACKED_HEADERS = 10_000
MAX_LATENCY_SECONDS = 30.0
MAX_COUNT = 1_000
_MAX_DROP_EVENTS = 10_000
_MAX_RETRY_AFTER = 3600.0


class FaultSpecError(ValueError):
    """A fault spec that cannot be parsed; the message says which part and why."""


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised to cut a connection on purpose.

    It is an httpx transport error so that an in-process client (``httpx.ASGITransport``
    re-raises app exceptions) sees the same failure as one talking over a socket.
    """


@dataclass(frozen=True)
class FaultSpec:
    """One parsed fault; see the module documentation for the meaning of each field."""

    status: int | None = None
    retry_after: float | None = None
    latency: float = 0.0
    drop: int | None = None
    expire_token: bool = False
    count: int = 1
    method: str | None = None
    path: str | None = None
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The spec as a JSON object."""
        return asdict(self)


def _number(key: str, text: str, *, integer: bool, low: float, high: float) -> float:
    try:
        value = int(text) if integer else float(text)
    except ValueError as exc:
        kind = "an integer" if integer else "a number"
        raise FaultSpecError(f"fault {key!r} must be {kind}, got {text!r}") from exc
    if not low <= value <= high:
        raise FaultSpecError(f"fault {key!r} must be between {low:g} and {high:g}")
    return value


def parse_fault_spec(text: str) -> FaultSpec:
    """Parse ``status=503;count=2;...``; raise FaultSpecError when it is malformed."""
    fields: dict[str, Any] = {}
    for raw in text.split(";"):
        part = raw.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        key = name.strip().lower().replace("-", "_")
        value = value.strip()
        if key == "expire_token" and (not sep or value.lower() in ("1", "true", "yes")):
            fields["expire_token"] = True
        elif not sep:
            raise FaultSpecError(f"fault part {part!r} needs a value: write {key}=VALUE")
        elif key == "status":
            fields["status"] = int(_number(key, value, integer=True, low=100, high=599))
        elif key == "count":
            fields["count"] = int(_number(key, value, integer=True, low=1, high=MAX_COUNT))
        elif key == "drop":
            fields["drop"] = int(_number(key, value, integer=True, low=0, high=_MAX_DROP_EVENTS))
        elif key == "retry_after":
            fields[key] = _number(key, value, integer=False, low=0, high=_MAX_RETRY_AFTER)
        elif key == "latency":
            fields[key] = _number(key, value, integer=False, low=0, high=MAX_LATENCY_SECONDS)
        elif key == "method":
            fields["method"] = value.upper()
        elif key in ("path", "id"):
            fields[key] = value
        else:
            raise FaultSpecError(
                f"unknown fault key {name.strip()!r}; use status, retry-after, latency, "
                "drop, expire-token, count, method, path or id"
            )
    spec = FaultSpec(**fields)
    if spec.status is None and spec.drop is None and not spec.expire_token and not spec.latency:
        raise FaultSpecError("a fault needs one of status, drop, expire-token or latency")
    return spec


@dataclass
class _Armed:
    spec: FaultSpec
    remaining: int
    source: str
    project: str | None = None  # None: requests of every project (and none)


class FaultRegistry:
    """The faults of one platform: run-wide rules and per-header counters."""

    def __init__(self, specs: tuple[str, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._rules = [_Armed(s, s.count, _FROM_CONFIG) for s in map(parse_fault_spec, specs)]
        self._seen: OrderedDict[str, int] = OrderedDict()

    def arm(self, spec: FaultSpec, *, source: str = _FROM_API, project: str | None = None) -> None:
        """Apply ``spec`` to the next ``spec.count`` matching requests.

        ``source`` says where it was armed; answers of the fault name it. With a
        ``project``, only requests acting in that project match.
        """
        with self._lock:
            self._rules.append(_Armed(spec, spec.count, source, project))

    def clear(self, project: str | None = None) -> None:
        """Disarm the run-wide faults of ``project`` (None: every fault)."""
        with self._lock:
            self._rules = [a for a in self._rules if not _reaches(project, a)]

    def armed(self, project: str | None = None) -> list[dict[str, Any]]:
        """The run-wide faults of ``project`` (None: all) still armed, with what is left."""
        with self._lock:
            return [
                {
                    **a.spec.to_dict(),
                    "remaining": a.remaining,
                    "source": a.source,
                    "project_id": a.project,
                }
                for a in self._rules
                if _reaches(project, a)
            ]

    def take(
        self,
        method: str,
        path: str,
        header: str | None,
        has_bearer: bool,
        project_of: Callable[[], str | None] = lambda: None,
    ) -> tuple[FaultSpec, str] | None:
        """The fault this request suffers and where it came from, if any, counting it as used.

        ``project_of`` tells the request's project; it is asked only when a fault
        armed for one project could match.
        """
        unknown = object()
        project: object = unknown
        with self._lock:
            if header is not None:
                spec = parse_fault_spec(header)
                if _matches(spec, method, path, has_bearer):
                    fired = self._seen.pop(header, 0)
                    self._seen[header] = fired + 1
                    while len(self._seen) > _MAX_TRACKED_HEADERS:
                        self._seen.popitem(last=False)
                    if fired < spec.count:
                        return spec, _FROM_HEADER
            for armed in self._rules:
                if not _matches(armed.spec, method, path, has_bearer):
                    continue
                if armed.project is not None:
                    if project is unknown:
                        project = project_of()
                    if project != armed.project:
                        continue
                armed.remaining -= 1
                if armed.remaining <= 0:
                    self._rules.remove(armed)
                return replace(armed.spec), armed.source
        return None


def _reaches(project: str | None, armed: _Armed) -> bool:
    """Whether a caller acting for ``project`` (None: the admin asking for all) sees it."""
    return project is None or armed.project == project


def _matches(spec: FaultSpec, method: str, path: str, has_bearer: bool) -> bool:
    if spec.method is not None and spec.method != method:
        return False
    if spec.path is not None and not path.startswith(spec.path):
        return False
    if spec.expire_token and (not has_bearer or path.startswith(_EXEMPT_FROM_EXPIRY)):
        return False
    return not _exempt(path)


def _exempt(path: str) -> bool:
    """The platform's own controls, its dashboard and docs: never faulted (else a fault
    armed for every request would lock the person out of the page that disarms it)."""
    return path == "/" or path.startswith(("/_dev/", "/dashboard/", "/docs"))


class FaultMiddleware:
    """ASGI middleware applying the faults of a :class:`FaultRegistry`."""

    def __init__(
        self,
        app: ASGIApp,
        registry: FaultRegistry,
        project_of: Callable[[Mapping[bytes, bytes]], str | None] = lambda _: None,
    ) -> None:
        self.app = app
        self.registry = registry
        self.project_of = project_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # As the routes read them: a project's fault meets the requests acting in it.
        headers = first_headers(scope)
        header = headers.get(FAULT_HEADER.encode())
        has_bearer = headers.get(b"authorization", b"").lower().startswith(b"bearer ")
        try:
            fired = self.registry.take(
                scope["method"],
                route_path(scope),
                None if header is None else header.decode("latin-1"),
                has_bearer,
                lambda: self.project_of(headers),
            )
        except FaultSpecError as exc:
            await send_json(send, 400, {"detail": f"Bad X-Viksa-Fault header: {exc}"}, [])
            return
        if fired is None:
            await self.app(scope, receive, send)
            return
        spec, source = fired
        if spec.latency:
            await anyio.sleep(spec.latency)
        if spec.status is not None:
            extra = []
            if spec.retry_after is not None:
                extra.append((b"retry-after", f"{spec.retry_after:g}".encode()))
            detail = f"Injected fault: status {spec.status} ({source})."
            await send_json(send, spec.status, {"detail": detail}, extra)
            return
        if spec.expire_token:
            expired = {
                "message": "The access token has expired; refresh it or log in again.",
                "code": "token_expired",
                "field": None,
            }
            await send_json(send, 401, {"detail": expired}, [(b"www-authenticate", b"Bearer")])
            return
        if spec.drop is not None:
            await self.app(scope, receive, _Dropper(send, spec.drop, source))
            return
        await self.app(scope, receive, send)


class _Dropper:
    """A ``send`` that cuts the response short, then raises DroppedConnection."""

    def __init__(self, send: Send, events: int, source: str) -> None:
        self._send = send
        self._source = source
        self._events_left = events
        self._stream = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._stream = any(
                k.lower() == b"content-type" and v.startswith(b"text/event-stream")
                for k, v in message.get("headers", [])
            )
            await self._send(message)
            return
        if message["type"] != "http.response.body":
            await self._send(message)
            return
        body: bytes = message.get("body", b"")
        if not self._stream:
            await self._send({**message, "body": body[: len(body) // 2], "more_body": True})
            raise DroppedConnection(f"connection dropped on purpose (drop fault, {self._source})")
        kept = bytearray()
        for event in body.split(b"\n\n"):
            if not event:
                continue
            if self._events_left <= 0:
                break
            kept += event + b"\n\n"
            self._events_left -= 1
        if kept:
            await self._send({**message, "body": bytes(kept), "more_body": True})
        if self._events_left <= 0 or not message.get("more_body", False):
            raise DroppedConnection(f"stream dropped on purpose (drop fault, {self._source})")
