"""Slow or stalled clients (slowloris): a header deadline and a connection cap.

uvicorn keeps a connection that sends half a request forever: nothing times out before
the request headers are complete. :func:`guarded_protocol` wraps uvicorn's HTTP
protocol so that

- a connection must complete its request headers within :data:`HEADER_TIMEOUT_SECONDS`
  of opening, or of sending the first bytes of its next request (keep-alive), or it is
  closed;
- at most ``max_connections`` connections are open at once: one more is closed as soon
  as it is accepted (a cap below the process's file-descriptor limit, so that accepting
  never fails for want of descriptors).

Each closing is counted, not logged with a traceback: one warning line says how many
were closed, at most every :data:`_REPORT_EVERY_SECONDS`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import time
from typing import Any

__all__ = [
    "HEADER_TIMEOUT_SECONDS",
    "default_max_connections",
    "guarded_protocol",
    "uvicorn_protocol",
]

HEADER_TIMEOUT_SECONDS = 10.0
"""How long a client has to send complete request headers."""
_MAX_CONNECTIONS = 1000
_REPORT_EVERY_SECONDS = 60.0
_log = logging.getLogger("uvicorn.error")


def default_max_connections() -> int:
    """1,000 connections, or half the file descriptors this process may open if fewer."""
    try:
        import resource
    except ImportError:  # Windows: no descriptor limit to read
        return _MAX_CONNECTIONS
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return _MAX_CONNECTIONS
    return max(16, min(_MAX_CONNECTIONS, soft // 2))


def uvicorn_protocol() -> type[asyncio.Protocol]:
    """The HTTP protocol uvicorn's ``auto`` picks: httptools when installed, else h11."""
    if importlib.util.find_spec("httptools") is not None:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
    from uvicorn.protocols.http.h11_impl import H11Protocol

    return H11Protocol


class _Drops:
    """Counts closed connections; logs one line per reporting period."""

    def __init__(self) -> None:
        self.pending = {"stalled": 0, "over the cap": 0}
        self.last = -_REPORT_EVERY_SECONDS

    def count(self, why: str, timeout: float, cap: int) -> None:
        self.pending[why] += 1
        now = time.monotonic()
        if now - self.last < _REPORT_EVERY_SECONDS:
            return
        self.last = now
        stalled, over = self.pending["stalled"], self.pending["over the cap"]
        self.pending = dict.fromkeys(self.pending, 0)
        _log.warning(
            "closed %d connection(s) that sent no complete request headers within %g s and "
            "%d over the cap of %d open connections (slow or stalled clients)",
            stalled,
            timeout,
            over,
            cap,
        )


def guarded_protocol(
    base: type[asyncio.Protocol],
    *,
    header_timeout: float = HEADER_TIMEOUT_SECONDS,
    max_connections: int | None = None,
) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class ``base`` with a header deadline and a connection cap."""
    cap = default_max_connections() if max_connections is None else max_connections
    drops = _Drops()

    # ``base`` is one of uvicorn's HTTP protocols: they keep ``transport``, ``loop``,
    # ``connections`` (shared by the server) and ``cycle`` (the current request).
    class Guarded(base):  # type: ignore[valid-type,misc]
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            if len(self.connections) > cap:
                drops.count("over the cap", header_timeout, cap)
                transport.abort()
                return
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and self._awaiting_headers():
                self._arm()
            super().data_received(data)
            if self._deadline is not None and not self._awaiting_headers():
                self._deadline.cancel()
                self._deadline = None

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            super().connection_lost(exc)

        def _awaiting_headers(self) -> bool:
            cycle = getattr(self, "cycle", None)
            return cycle is None or bool(cycle.response_complete)

        def _arm(self) -> None:
            self._deadline = self.loop.call_later(header_timeout, self._expire)

        def _expire(self) -> None:
            self._deadline = None
            if self._awaiting_headers() and not self.transport.is_closing():
                drops.count("stalled", header_timeout, cap)
                self.transport.abort()

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{base.__name__}"
    return Guarded
