"""What differs between the async client and its sync twin besides ``await``.

The generated sync code calls the ``sync_`` names, and the names without ``Async``,
where the async source calls the ``async_`` / ``Async`` ones. Tests patch
``async_sleep`` / ``sync_sleep`` here.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from viksa_ai.client._config import HttpBackend
from viksa_ai.client._errors import ViksaConfigError

if TYPE_CHECKING:
    import asyncio
    import ssl

_T = TypeVar("_T")
_R = TypeVar("_R")

__all__ = [
    "AsyncBoundedMap",
    "AsyncDeadline",
    "AsyncSingleFlight",
    "BoundedMap",
    "Deadline",
    "FlightTimeoutError",
    "SingleFlight",
    "async_sleep",
    "make_async_http_client",
    "make_sync_http_client",
    "sync_sleep",
]


async def async_sleep(seconds: float) -> None:
    """Wait without blocking the event loop."""
    import asyncio

    await asyncio.sleep(seconds)


def sync_sleep(seconds: float) -> None:
    """Wait, blocking this thread."""
    time.sleep(seconds)


class AsyncDeadline:
    """What is left of a call's deadline, enforced on one attempt by cancelling it.

    ``run(job)`` runs ``job(self)``; if it has not finished after ``seconds`` it is
    cancelled (the job's ``finally`` blocks still run, so connections are released) and
    ``httpx.TimeoutException(message)`` is raised instead, a timeout like any other.
    """

    __slots__ = ("message", "seconds")

    def __init__(self, seconds: float, message: str) -> None:
        self.seconds = seconds
        self.message = message

    async def run(self, job: Callable[[AsyncDeadline], Coroutine[Any, Any, _R]]) -> _R:
        """The result of ``job(self)``, or ``httpx.TimeoutException`` past the deadline."""
        import asyncio

        try:
            return await asyncio.wait_for(job(self), self.seconds)
        except asyncio.TimeoutError as exc:
            raise httpx.TimeoutException(self.message) from exc

    def watch(self, response: httpx.Response) -> None:
        """Nothing to do: cancelling the job stops its reads too."""


class Deadline:
    """``AsyncDeadline`` for threads, where a blocked read cannot be cancelled.

    On the transport a sync client builds for itself, every socket wait is cut to what
    is left (``_net``). On an ``http_client`` of the caller's, ``watch(response)`` arms a
    timer that shuts the response's socket down when the time is up, which ends a body
    read at once; before the response arrives, the attempt's timeouts (already cut to
    what is left) bound it.
    """

    __slots__ = ("_done", "_end", "_fired", "_lock", "_timer", "message", "seconds")

    def __init__(self, seconds: float, message: str) -> None:
        self.seconds = seconds
        self.message = message
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._done = False
        self._fired = False
        self._timer: threading.Timer | None = None

    def run(self, job: Callable[[Deadline], _R]) -> _R:
        """The result of ``job(self)``, or ``httpx.TimeoutException`` past the deadline."""
        from viksa_ai.client._net import DEADLINE_END

        token = DEADLINE_END.set(self._end)
        try:
            result = job(self)
        except Exception as exc:
            if self._finish() or self._timed_out(exc):
                raise httpx.TimeoutException(self.message) from exc
            raise
        finally:
            DEADLINE_END.reset(token)
        if self._finish():
            # The socket was shut under the read: what was read may be cut short.
            raise httpx.TimeoutException(self.message)
        return result

    def _timed_out(self, exc: BaseException) -> bool:
        # A socket wait cut to the deadline ends at it (within the clock's resolution).
        return isinstance(exc, httpx.TimeoutException) and time.monotonic() >= self._end - 0.01

    def _finish(self) -> bool:
        with self._lock:
            self._done = True
            if self._timer is not None:
                self._timer.cancel()
            return self._fired

    def watch(self, response: httpx.Response) -> None:
        """Shut the response's socket down if it is still being read at the deadline."""
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return  # a transport without a socket (a mock): its reads cannot block
        timer = threading.Timer(max(self._end - time.monotonic(), 0.0), self._fire, (sock,))
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _fire(self, sock: socket.socket) -> None:
        with self._lock:
            if self._done:
                return
            self._fired = True
            # socket.socket's own shutdown, also for an SSLSocket (no TLS close alert);
            # an OSError means it is closed already, so the read has ended anyway.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class FlightTimeoutError(Exception):
    """A caller of a single flight stopped waiting for it (its ``timeout`` passed)."""


class AsyncSingleFlight:
    """One run of a job shared by every caller that joins while it is in flight.

    The job runs as a task of its own: cancelling a caller ends that caller at once but
    not the job, so the callers still waiting get its result rather than starting it again.
    """

    __slots__ = ("_task",)

    def __init__(self) -> None:
        self._task: asyncio.Future[None] | None = None

    async def join(
        self, job: Callable[[], Coroutine[Any, Any, None]], timeout: float | None = None
    ) -> None:
        """Wait for the job in flight, or start ``job()``; raise what it raised.

        Past ``timeout`` seconds this caller stops waiting with ``FlightTimeoutError``; the
        job goes on for the others.
        """
        import asyncio

        task = self._task
        if task is None or task.done():
            task = self._task = asyncio.ensure_future(job())
            task.add_done_callback(_retrieve)
        if timeout is None:
            await asyncio.shield(task)
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except asyncio.TimeoutError:
            if not task.done():
                raise FlightTimeoutError from None
            await task  # it ended as the wait did: its own outcome (a TimeoutError?) wins


def _retrieve(task: asyncio.Future[None]) -> None:
    # When every caller was cancelled nobody reads the outcome: asyncio would log it.
    if not task.cancelled():
        task.exception()


class SingleFlight:
    """``AsyncSingleFlight`` for threads: the job runs in a thread of its own.

    A caller interrupted while waiting (``KeyboardInterrupt``) leaves without stopping
    the job, so the other callers still get its result.
    """

    __slots__ = ("_flight", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flight: _Flight | None = None

    def join(self, job: Callable[[], None], timeout: float | None = None) -> None:
        """Wait for the job in flight, or start ``job()``; raise what it raised.

        Past ``timeout`` seconds this caller stops waiting with ``FlightTimeoutError``; the
        job goes on for the others.
        """
        with self._lock:
            flight = self._flight
            start = flight is None
            if flight is None:
                flight = self._flight = _Flight()
        if start:
            # The job sees the caller's context (record_responses), as a task would.
            context = contextvars.copy_context()
            thread = threading.Thread(
                target=self._run, args=(flight, job, context), name="viksa-flight", daemon=True
            )
            try:
                thread.start()
            except RuntimeError:
                # No thread to be had (thread limit, interpreter shutdown): run the job here
                # rather than leave a flight that never lands for every later caller.
                self._run(flight, job, context)
        if not flight.done.wait(timeout):
            raise FlightTimeoutError
        if flight.error is not None:
            # Each caller raises it with the job's traceback, not with the frames the
            # callers before it added (as an asyncio task's result does).
            raise flight.error.with_traceback(flight.traceback)

    def _run(self, flight: _Flight, job: Callable[[], None], context: contextvars.Context) -> None:
        try:
            context.run(job)
        except BaseException as exc:  # handed to every caller, who raise it
            flight.error, flight.traceback = exc, exc.__traceback__
        finally:
            with self._lock:
                self._flight = None
            flight.done.set()


class _Flight:
    """The outcome of one run of a ``SingleFlight`` job."""

    __slots__ = ("done", "error", "traceback")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.traceback: TracebackType | None = None


class AsyncBoundedMap:
    """Call a function on many items with at most ``limit`` calls in flight.

    Results come back in the items' order; the first failure cancels the calls still
    running and is raised.
    """

    __slots__ = ("_limit",)

    def __init__(self, limit: int) -> None:
        self._limit = limit

    async def map(
        self, call: Callable[[_T], Coroutine[Any, Any, _R]], items: Sequence[_T]
    ) -> list[_R]:
        """``[await call(item) for item in items]``, run ``limit`` at a time."""
        import asyncio

        gate = asyncio.Semaphore(self._limit)

        async def one(item: _T) -> _R:
            async with gate:
                return await call(item)

        tasks = [asyncio.ensure_future(one(item)) for item in items]
        try:
            return list(await asyncio.gather(*tasks))
        finally:
            for task in tasks:
                task.cancel()


class BoundedMap:
    """``AsyncBoundedMap`` for threads: at most ``limit`` calls run at once, each in a thread.

    Every call sees the caller's context (as a task would); the first failure is raised
    and the calls not yet started are not made.
    """

    __slots__ = ("_limit",)

    def __init__(self, limit: int) -> None:
        self._limit = limit

    def map(self, call: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
        """``[call(item) for item in items]``, run ``limit`` at a time."""
        from concurrent.futures import ThreadPoolExecutor

        if len(items) <= 1:
            return [call(item) for item in items]
        workers = min(self._limit, len(items))
        with ThreadPoolExecutor(workers, thread_name_prefix="viksa-map") as pool:
            futures = [pool.submit(contextvars.copy_context().run, call, item) for item in items]
            try:
                return [future.result() for future in futures]
            finally:
                for future in futures:
                    future.cancel()


_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
_ssl_context: ssl.SSLContext | None = None


def _verify() -> ssl.SSLContext:
    """One default TLS context for every client: loading the CA bundle costs ~30 ms."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


class _AnswerCookies(httpx.Cookies):
    """httpx's cookie store, which skips reading an answer that sets no cookie.

    httpx hands every answer to ``http.cookiejar`` through urllib request and response
    wrappers it builds first: about as much CPU as building the request, for answers
    that almost never set a cookie. The jar reads only ``Set-Cookie`` and
    ``Set-Cookie2``: without them it stores nothing, so skipping it changes nothing.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


_HttpClient = TypeVar("_HttpClient", httpx.AsyncClient, httpx.Client)


def _own(client: _HttpClient) -> _HttpClient:
    """A client the SDK built, with the cookie store that skips answers setting none.

    ``_cookies`` is where httpx keeps the store (``client.cookies``, whose setter would
    wrap ours in a plain one); an httpx keeping it elsewhere just goes without the saving.
    """
    store = getattr(client, "_cookies", None)
    if type(store) is httpx.Cookies:
        client._cookies = _AnswerCookies(store.jar)
    return client


def make_async_http_client(
    backend: HttpBackend, timeout: httpx.Timeout, headers: httpx.Headers
) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` a client builds for itself (and closes).

    It carries the client's timeout and static headers, so requests need not repeat them.
    """
    if backend == "aiohttp":
        try:
            from viksa_ai.client._aiohttp import AiohttpClient
        except ImportError:
            raise ViksaConfigError(
                "http_backend='aiohttp' needs the aiohttp extra: "
                "pip install 'viksa-client[aiohttp]'"
            ) from None
        return _own(
            AiohttpClient(timeout=timeout, headers=headers, limits=_LIMITS, verify=_verify())
        )
    return _own(
        httpx.AsyncClient(timeout=timeout, headers=headers, limits=_LIMITS, verify=_verify())
    )


def make_sync_http_client(
    backend: HttpBackend, timeout: httpx.Timeout, headers: httpx.Headers
) -> httpx.Client:
    """The ``httpx.Client`` a sync client builds for itself (and closes)."""
    if backend == "aiohttp":
        raise ViksaConfigError(
            "http_backend='aiohttp' is async only: use ViksaClient, or http_backend='httpx'"
        )
    from viksa_ai.client._net import bounded_transport

    # Its sockets wait no longer than the deadline of the call in flight (see Deadline).
    transport = bounded_transport(_verify(), _LIMITS)
    return _own(httpx.Client(timeout=timeout, headers=headers, transport=transport))
