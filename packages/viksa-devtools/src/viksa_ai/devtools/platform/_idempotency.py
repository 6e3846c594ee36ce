"""``Idempotency-Key`` support: a retried write runs once and replays its first answer.

Keys are scoped to the caller's account, the method and the path. The first request
with a key runs and its answer is stored (except authentication failures, rate limits
and server errors, which a retry should get a fresh chance at); a later request with
the same key gets the stored answer with ``Idempotent-Replayed: true``; one that
arrives while the first still runs gets 409; one with a different body gets 422.
Streams are never stored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from viksa_ai.devtools.platform._store import Store

__all__ = ["IdempotencyMiddleware"]

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NOT_STORED = frozenset({401, 403, 408, 425, 429})
# A request still marked in flight after this long died with its process.
_IN_FLIGHT_TTL = 120.0
_KIND = "idempotency"


def _json_response(status: int, detail: Any) -> list[Message]:
    raw = json.dumps({"detail": detail}).encode()
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        },
        {"type": "http.response.body", "body": raw},
    ]


class IdempotencyMiddleware:
    """ASGI middleware storing answers of writes that carry an ``Idempotency-Key``."""

    def __init__(
        self,
        app: ASGIApp,
        store: Store,
        account_of: Callable[[str], str | None],
        ttl: float,
    ) -> None:
        self.app = app
        self.store = store
        self.account_of = account_of
        self.ttl = ttl

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", []))
        raw_key = headers.get(b"idempotency-key")
        if scope["type"] != "http" or scope["method"] not in _WRITE_METHODS or not raw_key:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        auth = headers.get(b"authorization", b"").decode("latin-1")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        owner = self.account_of(token) if token else None
        owner = owner or "anonymous:" + hashlib.sha256(auth.encode()).hexdigest()
        record_id = hashlib.sha256(
            "\x00".join([owner, scope["method"], scope["path"], raw_key.decode("latin-1")]).encode()
        ).hexdigest()
        fingerprint = hashlib.sha256(body).hexdigest()
        verdict = self._claim(record_id, fingerprint)
        if verdict is not None:
            for message in verdict:
                await send(message)
            return
        await self._run(scope, receive, body, send, record_id, fingerprint)

    def _claim(self, record_id: str, fingerprint: str) -> list[Message] | None:
        now = time.time()
        with self.store.transaction():
            found = self.store.get(_KIND, record_id)
            if found is not None and (
                found["expires_at"] <= now
                or (found["state"] == "in_flight" and found["started_at"] + _IN_FLIGHT_TTL <= now)
            ):
                self.store.delete(_KIND, record_id)
                found = None
            if found is None:
                self.store.insert(
                    _KIND,
                    {
                        "id": record_id,
                        "state": "in_flight",
                        "fingerprint": fingerprint,
                        "started_at": now,
                        "expires_at": now + self.ttl,
                    },
                    scope="idempotency",
                )
                return None
        if found["fingerprint"] != fingerprint:
            return _json_response(
                422,
                {
                    "message": "This Idempotency-Key was used with a different request body; "
                    "use a new key for a new request.",
                    "code": "idempotency_key_reused",
                    "field": None,
                },
            )
        if found["state"] == "in_flight":
            return _json_response(
                409,
                {
                    "message": "A request with this Idempotency-Key is still running; retry later.",
                    "code": "idempotency_in_progress",
                    "field": None,
                },
            )
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in found["headers"]] + [
            (b"idempotent-replayed", b"true")
        ]
        return [
            {"type": "http.response.start", "status": found["status"], "headers": headers},
            {"type": "http.response.body", "body": base64.b64decode(found["body"])},
        ]

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
        saved = False

        async def capture(message: Message) -> None:
            # Non-stream answers are held back until stored, so a connection lost while
            # sending them (a client's reason to retry) cannot lose the record.
            nonlocal start, streaming, saved
            if message["type"] == "http.response.start":
                start = message
                streaming = any(
                    k.lower() == b"content-type" and v.startswith(b"text/event-stream")
                    for k, v in message.get("headers", [])
                )
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
            if start["status"] < 500 and start["status"] not in _NOT_STORED:
                self._save(record_id, fingerprint, start, answer)
                saved = True
            await send(start)
            await send({"type": "http.response.body", "body": answer})

        try:
            await self.app(scope, replay_receive, capture)
        finally:
            if not saved:
                self.store.delete(_KIND, record_id)

    def _save(self, record_id: str, fingerprint: str, start: Message, body: bytes) -> None:
        now = time.time()
        self.store.save(
            _KIND,
            {
                "id": record_id,
                "state": "done",
                "fingerprint": fingerprint,
                "started_at": now,
                "expires_at": now + self.ttl,
                "status": start["status"],
                "headers": [
                    [k.decode("latin-1"), v.decode("latin-1")]
                    for k, v in start.get("headers", [])
                    if k.lower() != b"x-request-id"
                ],
                "body": base64.b64encode(body).decode("ascii"),
            },
        )


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
