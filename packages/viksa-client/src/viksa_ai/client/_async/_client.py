"""``ViksaClient``: the client, its constructors and the request pipeline loop."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractContextManager
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from viksa_ai.client import _backends
from viksa_ai.client._async._stream import iter_json
from viksa_ai.client._call import Call, service_for_prefix
from viksa_ai.client._config import ClientConfig, HttpBackend, RequestOptions, RetryConfig
from viksa_ai.client._credentials import Credentials
from viksa_ai.client._decode import RAW_LIMIT, as_json
from viksa_ai.client._errors import ViksaConfigError, ViksaError
from viksa_ai.client._logging import redact_url
from viksa_ai.client._pagination import PageCursor
from viksa_ai.client._pipeline import (
    Plan,
    RequestDefaults,
    answer_buffer,
    api_failure,
    deadline_passed,
    finish,
    is_event_stream,
    keep_body,
    make_plan,
    make_request,
    not_an_event_stream,
    opened_stream,
    response_retry_delay,
    time_left,
    transport_failure,
    transport_retry_delay,
    undecodable_body,
)
from viksa_ai.client._recording import ResponseRecorder, recording
from viksa_ai.client._refresh import (
    adopt_key_tenant,
    failed_refresh,
    refresh_call,
    refresh_wanted,
    wants_refresh,
)
from viksa_ai.client._settings import DEFAULT_TIMEOUT, Settings, make_settings
from viksa_ai.client._tracing import trace_attempt, trace_event, trace_response, traced
from viksa_ai.client._twin import blocking_twin, close_blocking, close_twin, closed_error

if TYPE_CHECKING:
    from viksa_ai.client._async._webhook import AsyncViksaWebhook
    from viksa_ai.client._async.resources._auth import AsyncAuth
    from viksa_ai.client._async.resources._builder import AsyncBuilder
    from viksa_ai.client._async.resources._chat import AsyncChat
    from viksa_ai.client._async.resources._marketplace import AsyncMarketplace
    from viksa_ai.client._async.resources._pulse import AsyncPulse
    from viksa_ai.client._async.resources._scheduler import AsyncScheduler
    from viksa_ai.client._async.resources._workflow import AsyncWorkflow
    from viksa_ai.models.answers import JSONValue

# unasync: begin async-only
import asyncio
import weakref

if TYPE_CHECKING:
    from viksa_ai.client._sync._client import ViksaSyncClient
# unasync: end

__all__ = ["ViksaClient"]

T = TypeVar("T")


class ViksaClient:
    """Client of the Viksa platform API.

    Authenticate with a JWT (``access_token``, optionally ``refresh_token`` for automatic
    refresh on 401), a project API key (``api_key`` or ``from_api_key``), a login
    (``from_login``) or the environment (``from_env``). ``base_url`` defaults to
    ``VIKSA_BASE_URL`` or the public gateway; ``timeout`` is in seconds (or an
    ``httpx.Timeout``); ``config`` / ``retry`` set retries, idempotency keys and default
    headers. ``http_client`` takes your own configured httpx client (never closed by this
    SDK); ``http_backend="aiohttp"`` selects the aiohttp-based transport of the extra
    ``viksa-client[aiohttp]`` (for the asyncio client). Close it with ``async with`` or
    ``aclose()``.
    """

    auth: AsyncAuth
    builder: AsyncBuilder
    chat: AsyncChat
    pulse: AsyncPulse
    workflow: AsyncWorkflow
    scheduler: AsyncScheduler
    marketplace: AsyncMarketplace

    def __init__(
        self,
        access_token: str | None = None,
        *,
        api_key: str | None = None,
        org_id: str | None = None,
        project_id: str | None = None,
        refresh_token: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        config: ClientConfig | None = None,
        retry: RetryConfig | None = None,
        http_client: httpx.AsyncClient | None = None,
        http_backend: HttpBackend = "httpx",
    ) -> None:
        if access_token is not None and api_key is not None:
            raise ViksaConfigError("give either access_token or api_key, not both")
        if api_key is not None and refresh_token is not None:
            raise ViksaConfigError("refresh_token works with JWT access tokens, not API keys")
        credentials = Credentials(
            access_token=access_token,
            api_key=api_key,
            refresh_token=refresh_token,
            org_id=org_id,
            project_id=project_id,
        )
        settings = make_settings(
            credentials=credentials,
            base_url=base_url,
            timeout=timeout,
            config=config,
            retry=retry,
            http_backend=http_backend,
        )
        self._setup(settings, http_client)

    def _setup(self, settings: Settings, http_client: httpx.AsyncClient | None) -> None:
        from viksa_ai.client._async.resources import attach_resources

        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError(
                f"http_client must be an httpx.AsyncClient, got {type(http_client).__name__}"
            )
        self._settings = settings
        self._owns_http = http_client is None
        self._http = http_client or _backends.make_async_http_client(
            settings.http_backend, settings.timeout, settings.static_headers
        )
        # A client built here already carries the timeout and static headers.
        self._defaults = RequestDefaults.for_client(settings, own=self._owns_http)
        self._refresh_flight = _backends.AsyncSingleFlight()
        self._twin: ViksaSyncClient | None = None
        self._closed = False
        # unasync: begin async-only
        self._loop: weakref.ref[asyncio.AbstractEventLoop] | None = None
        # unasync: end
        attach_resources(self)

    @classmethod
    def _from_settings(
        cls, settings: Settings, http_client: httpx.AsyncClient | None = None
    ) -> ViksaClient:
        client = cls.__new__(cls)
        client._setup(settings, http_client)
        return client

    # -- constructors ---------------------------------------------------------------

    @classmethod
    def from_api_key(
        cls,
        key: str,
        validate: bool = False,
        *,
        org_id: str | None = None,
        project_id: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        config: ClientConfig | None = None,
        retry: RetryConfig | None = None,
        http_client: httpx.AsyncClient | None = None,
        http_backend: HttpBackend = "httpx",
    ) -> ViksaClient:
        """A client authenticated with a project API key.

        ``validate=True`` checks the key now (a blocking call) and takes the org and
        project it belongs to; an invalid key raises ``ViksaAuthenticationError``.
        """
        client = cls(
            api_key=key,
            org_id=org_id,
            project_id=project_id,
            base_url=base_url,
            timeout=timeout,
            config=config,
            retry=retry,
            http_client=http_client,
            http_backend=http_backend,
        )
        if validate:
            try:
                twin = blocking_twin(client)
                adopt_key_tenant(twin._settings, twin.auth.validate_api_key(key))
            except BaseException:
                close_blocking(client)
                raise
        return client

    @classmethod
    async def from_login(
        cls,
        email: str,
        password: str,
        *,
        org_id: str | None = None,
        project_id: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        config: ClientConfig | None = None,
        retry: RetryConfig | None = None,
        http_client: httpx.AsyncClient | None = None,
        http_backend: HttpBackend = "httpx",
    ) -> ViksaClient:
        """Log in with email and password; the client keeps the tokens (and refreshes)."""
        client = cls(
            org_id=org_id,
            project_id=project_id,
            base_url=base_url,
            timeout=timeout,
            config=config,
            retry=retry,
            http_client=http_client,
            http_backend=http_backend,
        )
        try:
            await client.auth.login(email, password)
        except BaseException:
            await client.aclose()
            raise
        return client

    # unasync: begin async-only
    @classmethod
    def from_login_sync(
        cls,
        email: str,
        password: str,
        *,
        org_id: str | None = None,
        project_id: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        config: ClientConfig | None = None,
        retry: RetryConfig | None = None,
        http_client: httpx.AsyncClient | None = None,
        http_backend: HttpBackend = "httpx",
    ) -> ViksaClient:
        """Like ``from_login`` but blocking, for code outside an event loop."""
        client = cls(
            org_id=org_id,
            project_id=project_id,
            base_url=base_url,
            timeout=timeout,
            config=config,
            retry=retry,
            http_client=http_client,
            http_backend=http_backend,
        )
        try:
            blocking_twin(client).auth.login(email, password)
        except BaseException:
            close_blocking(client)
            raise
        return client

    # unasync: end

    @classmethod
    def from_env(
        cls,
        *,
        config: ClientConfig | None = None,
        retry: RetryConfig | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        http_client: httpx.AsyncClient | None = None,
        http_backend: HttpBackend = "httpx",
    ) -> ViksaClient:
        """A client from ``VIKSA_*`` variables; the first credential found wins.

        Order: ``VIKSA_API_KEY``, ``VIKSA_ACCESS_TOKEN`` (with ``VIKSA_REFRESH_TOKEN``),
        then ``VIKSA_EMAIL`` + ``VIKSA_PASSWORD`` (a blocking login). ``VIKSA_ORG_ID``,
        ``VIKSA_PROJECT_ID`` and ``VIKSA_BASE_URL`` are read too.
        """
        from viksa_ai.client._env import read_env

        found = read_env(os.environ)
        client = cls(
            found.access_token,
            api_key=found.api_key,
            refresh_token=found.refresh_token,
            org_id=found.org_id,
            project_id=found.project_id,
            base_url=None,  # read from VIKSA_BASE_URL by the settings, which name it in errors
            timeout=timeout,
            config=config,
            retry=retry,
            http_client=http_client,
            http_backend=http_backend,
        )
        if found.email is not None and found.password is not None:
            try:
                blocking_twin(client).auth.login(found.email, found.password)
            except BaseException:
                close_blocking(client)
                raise
        return client

    @classmethod
    def webhook(
        cls,
        trigger_id: str,
        *,
        webhook_token: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        config: ClientConfig | None = None,
        retry: RetryConfig | None = None,
        http_client: httpx.AsyncClient | None = None,
        http_backend: HttpBackend = "httpx",
    ) -> AsyncViksaWebhook:
        """A client of one trigger's public webhook (no platform token needed)."""
        from viksa_ai.client._async._webhook import AsyncViksaWebhook

        client = cls._for_webhook(
            webhook_token,
            base_url=base_url,
            timeout=timeout,
            config=config,
            retry=retry,
            http_client=http_client,
            http_backend=http_backend,
        )
        return AsyncViksaWebhook(trigger_id, client)

    @classmethod
    def _for_webhook(
        cls,
        webhook_token: str | None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        config: ClientConfig | None = None,
        retry: RetryConfig | None = None,
        http_client: httpx.AsyncClient | None = None,
        http_backend: HttpBackend = "httpx",
    ) -> ViksaClient:
        """The client behind a webhook: only the webhook token as credential."""
        settings = make_settings(
            credentials=Credentials(webhook_token=webhook_token),
            base_url=base_url,
            timeout=timeout,
            config=config,
            retry=retry,
            http_backend=http_backend,
        )
        return cls._from_settings(settings, http_client)

    # -- state ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The gateway URL every call goes to."""
        return self._settings.base_url

    @property
    def org_id(self) -> str | None:
        """The active organization id (``X-Tenant-Org-Id``)."""
        return self._settings.credentials.org_id

    @property
    def project_id(self) -> str | None:
        """The active project id (``X-Tenant-Project-Id``)."""
        return self._settings.credentials.project_id

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The httpx client used to send requests."""
        return self._http

    def __repr__(self) -> str:
        credentials = self._settings.credentials
        return (
            f"{type(self).__name__}(base_url={redact_url(self.base_url)!r}, "
            f"auth={credentials.mode!r}, "
            f"org_id={credentials.org_id!r}, project_id={credentials.project_id!r})"
        )

    # -- lifecycle ------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connections this client opened (never a caller's ``http_client``)."""
        close_twin(self)
        if self._owns_http:
            # unasync: begin async-only
            if self._loop_ended():  # its connections ended with it: closing them raises
                return
            # unasync: end
            await self._http.aclose()

    async def __aenter__(self) -> ViksaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # unasync: begin async-only
    def close(self) -> None:
        """Close the client without an event loop, for code that used only ``_sync`` methods.

        Kept from 0.2 (as ``with ViksaClient(...) as client:``). Connections that async
        calls opened are not released: from async code use ``aclose()``.
        """
        close_twin(self)

    def _check_loop(self) -> None:
        """Refuse a call from another event loop than the one of this client's first call.

        httpx and aiohttp keep connections open between calls, bound to the event loop
        that opened them: after ``asyncio.run`` returns they are dead, and a call from the
        next loop failed with a bare ``RuntimeError: Event loop is closed``; while that
        loop still runs (in another thread), with one about objects bound to a different
        loop. A caller's ``http_client`` is the caller's to manage (an in-process ASGI one
        works anywhere).
        """
        if not self._owns_http:
            return
        running = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = weakref.ref(running)
            return
        if self._loop() is running:
            return
        if not self._loop_ended():
            raise ViksaConfigError(
                "this ViksaClient is in use by another event loop, not closed yet (one "
                "running in another thread, say): its connections belong to that loop and "
                "cannot serve this one; use one client per event loop (created inside the "
                "coroutine that uses it), or a ViksaSyncClient, which threads may share"
            )
        raise ViksaConfigError(
            "this ViksaClient was used in an event loop that has ended (asyncio.run "
            "returned), and its connections ended with it: create the client inside the "
            "coroutine that uses it (async with ViksaClient.from_env() as client: ...), "
            "or use ViksaSyncClient"
        )

    def _loop_ended(self) -> bool:
        """Whether the event loop of this client's first call has closed (or is gone)."""
        if self._loop is None:
            return False
        first = self._loop()
        return first is None or first.is_closed()

    def __enter__(self) -> ViksaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # unasync: end

    # -- calls ----------------------------------------------------------------------

    def record_responses(self) -> AbstractContextManager[ResponseRecorder]:
        """Record the raw ``httpx.Response`` of each call made inside the ``with`` block.

        ``with client.record_responses() as rec: ...`` then ``rec.last.status_code``,
        ``rec.last.headers``, ``rec.request_id``. Covers calls of any Viksa client made in
        the same task or thread (and tasks started inside the block).
        """
        return recording()

    async def request(
        self,
        method: str,
        prefix: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        options: RequestOptions | None = None,
    ) -> JSONValue:
        """Call a route not wrapped yet: ``await client.request("GET", "/builder", "/x")``.

        ``path`` is sent as given (encode ids yourself); the answer is decoded JSON, typed
        ``JSONValue`` (narrow it with ``isinstance``, or ``cast`` it to the shape you know).
        """
        call: Call[JSONValue] = Call(
            method=method.upper(),
            service=service_for_prefix(prefix),
            path=path if path.startswith("/") else "/" + path,
            query=params,
            body=json,
            decode=as_json,
            raw_path=True,
        )
        return await self._request(call, options)

    # unasync: begin async-only
    def request_sync(
        self,
        method: str,
        prefix: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        options: RequestOptions | None = None,
    ) -> JSONValue:
        """Like ``request`` but blocking, for code outside an event loop."""
        return blocking_twin(self).request(
            method, prefix, path, params=params, json=json, options=options
        )

    # unasync: end

    @staticmethod
    def iter_sse_lines(response: httpx.Response) -> AsyncIterator[JSONValue]:
        """The JSON values of the ``data:`` events of a streaming response, until ``[DONE]``."""
        return iter_json(response)

    async def _request(self, call: Call[T], options: RequestOptions | None) -> T:
        plan = make_plan(self._settings, call, options)
        with traced(plan):
            response = await self._send(plan)
            return finish(plan, self._settings, call, response)

    async def _open_stream(self, call: Call[Any], options: RequestOptions | None) -> httpx.Response:
        plan = make_plan(self._settings, call, options, stream=True)
        with traced(plan):  # the span ends when the stream has opened
            response = await self._send(plan)
            if not is_event_stream(response):
                head = await _read_head(response)
                raise not_an_event_stream(plan, self._settings, response, head)
            opened_stream(plan, response)
            return response

    async def _send(self, plan: Plan) -> httpx.Response:
        # unasync: begin async-only
        self._check_loop()
        # unasync: end
        settings = self._settings
        attempt = 0
        replayed = False
        while True:
            # Checked on each pass: a close during a retry wait or a refresh must end the
            # call with this error, not httpx's RuntimeError about a closed client.
            if self._closed:
                raise closed_error()
            generation = settings.credentials.generation
            try:
                response = await self._attempt(plan)
            except httpx.TransportError as exc:
                if self._closed:  # the close broke this request: retrying cannot help
                    raise closed_error() from exc
                delay = transport_retry_delay(plan, attempt, exc)
                if delay is None:
                    raise transport_failure(plan, settings, exc) from exc
                await _backends.async_sleep(delay)
                attempt += 1
                continue
            trace_response(response)
            if response.is_success:
                return response
            if not replayed and wants_refresh(plan, settings, response):
                trace_event("viksa.token_refresh")
                try:
                    await self._refresh(generation, time_left(plan))
                except _backends.FlightTimeoutError:
                    # The refresh goes on (for the other calls); this call's time is up.
                    timeout = httpx.TimeoutException(deadline_passed(plan))
                    raise transport_failure(plan, settings, timeout) from None
                replayed = True
                continue
            delay = response_retry_delay(plan, attempt, response)
            if delay is not None:
                await _backends.async_sleep(delay)
                attempt += 1
                continue
            raise api_failure(plan, settings, response)

    async def _attempt(self, plan: Plan) -> httpx.Response:
        """One attempt, with the credentials as they are now, under what is left of the
        call's deadline.

        The request lives in this frame only, not in ``_send``'s: its repr is the full URL
        (a passphrase in the query), and the locals of the frames an error is raised from
        reach the error trackers that show them.
        """
        request = make_request(self._http, plan, self._settings, self._defaults)
        trace_attempt(request)
        left = time_left(plan)
        if left is None:
            return await self._exchange(plan, request, None)
        deadline = _backends.AsyncDeadline(left, deadline_passed(plan))
        return await deadline.run(partial(self._exchange, plan, request))

    async def _exchange(
        self, plan: Plan, request: httpx.Request, deadline: _backends.AsyncDeadline | None
    ) -> httpx.Response:
        """One attempt: send, then read the body (a stream's only on an error status).

        The body is read here, under the deadline and within the client's size cap.
        """
        # Never followed, even by a caller's client that follows redirects: a 307 or 308
        # sends the body (a password, a secret's value) and the caller's headers again,
        # to wherever it points.
        response = await self._http.send(request, stream=True, follow_redirects=False)
        if plan.stream and response.is_success:
            return response
        try:
            if deadline is not None:
                deadline.watch(response)
            # Inside the try: a body refused on its declared length must still give its
            # connection up, or each such answer keeps one out of the pool for good.
            body = answer_buffer(plan, self._settings, response)
            async for chunk in response.aiter_bytes():
                if not body.add(chunk):
                    break
        except httpx.DecodingError as exc:
            raise undecodable_body(plan, exc) from exc
        finally:
            await response.aclose()
        keep_body(response, body)
        return response

    async def _refresh(self, generation: int, wait: float | None) -> None:
        """Refresh the access token once for all calls that failed with it (single flight).

        The refresh runs on its own: a caller cancelled meanwhile does not cancel it, so
        the others get its result instead of sending the refresh token a second time. A
        caller waits for it at most ``wait`` seconds (what is left of its deadline), then
        ``FlightTimeoutError``.
        """
        await self._refresh_flight.join(lambda: self._refresh_once(generation), wait)

    async def _refresh_once(self, generation: int) -> None:
        if not refresh_wanted(self._settings, generation):
            return
        try:
            await self._request(refresh_call(self._settings), None)
        except ViksaError as exc:
            failed_refresh(self._settings, generation, exc)

    async def _paginate(
        self,
        page: Callable[[int, int], Call[Any]],
        *,
        limit: int,
        key: str | None,
        options: RequestOptions | None,
    ) -> AsyncIterator[Any]:
        cursor = PageCursor(limit, key)
        while not cursor.done:
            items = await self._request(cursor.reading(page(cursor.skip, limit)), options)
            for item in items:
                yield item


async def _read_head(response: httpx.Response) -> bytes:
    """The start of a streamed body (enough for an error's ``raw``); then it is closed."""
    head = b""
    try:
        async for chunk in response.aiter_bytes():
            head += chunk
            if len(head) >= RAW_LIMIT:
                break
    except (httpx.TransportError, httpx.DecodingError):
        pass  # the error names the status and type: what arrived before the break will do
    finally:
        await response.aclose()
    return head
