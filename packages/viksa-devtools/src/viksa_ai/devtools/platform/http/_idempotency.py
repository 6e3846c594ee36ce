"""``Idempotency-Key`` support: a retried write runs once and replays its first answer.

Keys are scoped to the caller (the credential: the user of a token or the key itself,
its account, org and project, and the ``X-Tenant-*`` headers), the method and the path.
The first request with a key runs and its answer is kept (except authentication
failures, rate limits and server errors, which a retry should get a fresh chance at); a
later request with the same key gets the kept answer with ``Idempotent-Replayed: true``
(also while the first answer is still being sent); one that arrives while the first
still runs gets 409; one with a different body or query gets 422. Streams are never
kept, and the dashboard's and ``/_dev/`` routes (whose credential is no bearer token)
ignore keys.

Which keys are in flight is known to this process only (no request outlives it). Kept
answers go to the database, where they expire after the platform's ``idempotency_ttl``
(24 hours by default); expired ones are swept, at most every 30 seconds, when an answer
is written. An answer marked ``Cache-Control: no-store`` (tokens, a new key's secret, a
webhook token) is never written to the database: it is replayed from memory for a few
minutes, after which the key only answers 409.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from viksa_ai.devtools._json import dumps_json
from viksa_ai.devtools.platform.http._headers import first_headers, route_path
from viksa_ai.devtools.platform.store._store import Kind, Store

__all__ = ["IdempotencyMiddleware", "record_id_of", "rewrite_kept_answers", "tenant_owner"]

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NOT_KEPT = frozenset({401, 403, 408, 425, 429})
# Answers holding credentials stay in memory only, and not for long: a client retries
# within seconds, and the secret should not outlive that need.
_MEMORY_TTL = 600.0
_MEMORY_MAX = 1000
_KIND: Kind = "idempotency"
_PURGE_EVERY_SECONDS = 30.0
# Routes whose credential is not the bearer token a key's owner is read from: the
# dashboard's cookie and /_dev/'s fault token. Every caller of them would share one
# owner, and a replay comes before the route's own checks (any stranger would get the
# answer). They are no part of the API; a key sent to them is ignored.
_NOT_KEYED = ("/dashboard/", "/_dev/")


def _json_response(status: int, message: str, code: str) -> list[Message]:
    raw = json.dumps({"detail": {"message": message, "code": code, "field": None}}).encode()
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        },
        {"type": "http.response.body", "body": raw},
    ]


def _has_header(message: Message, name: bytes, prefix: bytes) -> bool:
    return any(
        k.lower() == name and v.lower().startswith(prefix) for k, v in message.get("headers", [])
    )


def _replay(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> list[Message]:
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"idempotent-replayed", b"true")],
        },
        {"type": "http.response.body", "body": body},
    ]


def record_id_of(owner: str, method: str, path: str, key: str) -> str:
    """The id of the record kept for ``key`` sent by ``owner`` (see :func:`tenant_owner`)."""
    return hashlib.sha256("\x00".join([owner, method, path, key]).encode()).hexdigest()


def tenant_owner(caller: str, org_header: str = "", project_header: str = "") -> str:
    """The owner of a key: the caller (``owner_of`` a token) and the tenant it names."""
    return "\x00".join([caller, org_header, project_header])


def rewrite_kept_answers(store: Store, rewrite: Callable[[Any], Any | None]) -> int:
    """Replace each kept JSON answer by ``rewrite(answer)`` unless that is None; how many.

    For a data file an earlier version wrote: an answer it kept may show what answers no
    longer show. The rewritten answer replays with its ``content-length`` made right.
    """
    changed = 0
    with store.transaction():
        for record in store.query(_KIND)[0]:
            if "body" not in record:
                continue  # an answer kept in memory only, or an in-flight mark
            try:
                answer = json.loads(base64.b64decode(record["body"]))
            except ValueError:
                continue  # not JSON: nothing of ours to rewrite
            rewritten = rewrite(answer)
            if rewritten is None:
                continue
            body = dumps_json(rewritten).encode("utf-8")
            record["body"] = base64.b64encode(body).decode("ascii")
            record["headers"] = [
                [name, str(len(body)) if name.lower() == "content-length" else value]
                for name, value in record["headers"]
            ]
            store.save(_KIND, record)
            changed += 1
    return changed


class IdempotencyMiddleware:
    """ASGI middleware keeping answers of writes that carry an ``Idempotency-Key``."""

    def __init__(
        self,
        app: ASGIApp,
        store: Store,
        owner_of: Callable[[str], str | None],
        ttl: float,
    ) -> None:
        self.app = app
        self.store = store
        self.owner_of = owner_of
        self.ttl = ttl
        self._in_flight: dict[str, str] = {}  # record id -> fingerprint of the body
        # Answers complete and to be kept whose request is still in flight (being sent):
        # a retry meanwhile (its client's read timed out) gets the answer, not a 409.
        self._answered: dict[str, list[Message]] = {}
        self._memory: OrderedDict[str, tuple[float, list[Message]]] = OrderedDict()
        self._next_purge = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _WRITE_METHODS
            or route_path(scope).startswith(_NOT_KEYED)
        ):
            await self.app(scope, receive, send)
            return
        # The key's owner must be the caller and tenant the route acts for.
        headers = first_headers(scope)
        raw_key = headers.get(b"idempotency-key")
        if not raw_key:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        auth = headers.get(b"authorization", b"").decode("latin-1")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        caller = self.owner_of(token) if token else None
        # Keyed digests: the header may hold a webhook token, the body a vault value.
        caller = caller or "anonymous:" + self.store.digest(auth.encode(), "idempotency_caller")
        owner = tenant_owner(
            caller,
            headers.get(b"x-tenant-org-id", b"").decode("latin-1"),
            headers.get(b"x-tenant-project-id", b"").decode("latin-1"),
        )
        record_id = record_id_of(owner, scope["method"], scope["path"], raw_key.decode("latin-1"))
        # The query is part of the request: DELETE ?force=true is not a retry of DELETE.
        request = scope.get("query_string", b"") + b"\x00" + body
        fingerprint = self.store.digest(request, "idempotency_body")
        verdict = self._claim(record_id, fingerprint)
        if verdict is not None:
            for message in verdict:
                await send(message)
            return
        try:
            await self._run(scope, receive, body, send, record_id, fingerprint)
        finally:
            del self._in_flight[record_id]
            self._answered.pop(record_id, None)

    def _claim(self, record_id: str, fingerprint: str) -> list[Message] | None:
        """Mark ``record_id`` in flight and return None, or the answer to give instead."""
        running = self._in_flight.get(record_id)
        found = None if running is not None else self.store.get(_KIND, record_id)
        if found is not None and (found["state"] != "done" or found["expires_at"] <= time.time()):
            # Expired, or an in-flight mark an earlier version left in the data file.
            self.store.delete(_KIND, record_id)
            found = None
        if running is None and found is None:
            self._in_flight[record_id] = fingerprint
            return None
        if (running if found is None else found["fingerprint"]) != fingerprint:
            return _json_response(
                422,
                "This Idempotency-Key was used with a different request body; "
                "use a new key for a new request.",
                "idempotency_key_reused",
            )
        if found is None:
            answered = self._answered.get(record_id)
            if answered is not None:
                return answered
            return _json_response(
                409,
                "A request with this Idempotency-Key is still running; retry later.",
                "idempotency_in_progress",
            )
        if found.get("in_memory"):
            return self._recall(record_id) or _json_response(
                409,
                "The request with this Idempotency-Key already ran; its answer held "
                "credentials, which are kept only briefly and never stored. Use a new key "
                "(a key or token it created can be listed or revoked).",
                "idempotency_answer_not_kept",
            )
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in found["headers"]]
        return _replay(found["status"], headers, base64.b64decode(found["body"]))

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        body: bytes,
        send: Send,
        record_id: str,
        fingerprint: str,
    ) -> None:
        sent_body = False

        async def replay_receive() -> Message:
            # The body was read up front; after it, pass on the real channel so a
            # streaming answer still learns when its client goes away.
            nonlocal sent_body
            if sent_body:
                return await receive()
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}

        start: Message | None = None
        chunks: list[bytes] = []
        streaming = False

        async def capture(message: Message) -> None:
            # Non-stream answers are held back until kept, so a connection lost while
            # sending them (a client's reason to retry) cannot lose the answer, nor can
            # the platform stopping (kill -9) once its client has it.
            nonlocal start, streaming
            if message["type"] == "http.response.start":
                start = message
                streaming = _has_header(message, b"content-type", b"text/event-stream")
                if streaming:
                    await send(message)
                return
            if message["type"] != "http.response.body" or streaming or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            answer = b"".join(chunks)
            if start["status"] < 500 and start["status"] not in _NOT_KEPT:
                headers = _kept_headers(start)
                self._keep(record_id, fingerprint, start, answer, headers)
                # A retry while it is sent (the key is in flight until then) gets it too.
                self._answered[record_id] = _replay(start["status"], headers, answer)
            await send(start)
            await send({"type": "http.response.body", "body": answer})

        await self.app(scope, replay_receive, capture)

    def _keep(
        self,
        record_id: str,
        fingerprint: str,
        start: Message,
        body: bytes,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        status: int = start["status"]
        now = time.time()
        record: dict[str, Any] = {
            "id": record_id,
            "state": "done",
            "fingerprint": fingerprint,
            "expires_at": now + self.ttl,
            "status": status,
        }
        if _has_header(start, b"cache-control", b"no-store"):
            self._remember(record_id, _replay(status, headers, body))
            record["in_memory"] = True
        else:
            record["headers"] = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers]
            record["body"] = base64.b64encode(body).decode("ascii")
        if now >= self._next_purge:
            # Expired answers are swept now and then, not on every request: the sweep
            # is a write of its own, and _claim ignores an expired answer.
            self.store.purge_expired(_KIND, now)
            self._next_purge = now + min(_PURGE_EVERY_SECONDS, self.ttl)
        # One statement: an answer _claim found expired (or a stale mark) is replaced.
        self.store.replace(_KIND, record, scope=_KIND, expires=record["expires_at"])

    def _remember(self, record_id: str, answer: list[Message]) -> None:
        self._memory[record_id] = (time.monotonic() + min(self.ttl, _MEMORY_TTL), answer)
        while len(self._memory) > _MEMORY_MAX:
            self._memory.popitem(last=False)

    def _recall(self, record_id: str) -> list[Message] | None:
        moment = time.monotonic()
        while self._memory:
            oldest = next(iter(self._memory))
            if self._memory[oldest][0] > moment:
                break
            del self._memory[oldest]
        kept = self._memory.get(record_id)
        return None if kept is None else kept[1]


def _kept_headers(start: Message) -> list[tuple[bytes, bytes]]:
    """The headers an answer is replayed with: its own but the request's id."""
    return [(k, v) for k, v in start.get("headers", []) if k.lower() != b"x-request-id"]


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)
