"""Secrets stay out of reprs, errors and logs; ids cannot reach another route."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, quote_plus, unquote

import h11
import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from viksa_ai.client import (
    AsyncEventStream,
    AsyncViksaWebhook,
    ClientConfig,
    EventStream,
    RequestOptions,
    RetryConfig,
    ViksaClient,
    ViksaConfigError,
    ViksaDecodeError,
    ViksaError,
    ViksaInsecureTransportWarning,
    ViksaServerError,
    ViksaSyncClient,
    ViksaWebhook,
    WebhookClient,
)
from viksa_ai.client._env import read_env
from viksa_ai.client._headers import check_headers
from viksa_ai.client._logging import REDACTED

SECRETS = (
    "tok-access-1",
    "tok-refresh-1",
    "vk_live_secret",
    "hunter2",
    "pass-phrase-9",
    "wh-tok",
    "gw-key-77",
)


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


async def test_reprs_hold_no_secret() -> None:
    client = ViksaClient("tok-access-1", refresh_token="tok-refresh-1", org_id="o")
    key_client = ViksaClient.from_api_key("vk_live_secret")
    webhook = ViksaClient.webhook("trig-1", webhook_token="wh-tok")
    try:
        texts = [
            repr(client),
            str(client),
            repr(client.builder.agents),
            repr(client._settings),
            repr(key_client),
            repr(webhook),
            repr(client.chat.stream_execution("c")),
            repr(read_env({"VIKSA_EMAIL": "a@b", "VIKSA_PASSWORD": "hunter2"})),
        ]
    finally:
        await client.aclose()
        await key_client.aclose()
        await webhook.aclose()
    for text in texts:
        _assert_clean(text)
    assert "auth='jwt'" in texts[0]
    assert "org_id='o'" in texts[0]


@pytest.mark.parametrize(
    "make",
    [
        lambda url: ViksaClient("tok-access-1", base_url=url),
        lambda url: ViksaClient.webhook("trig-1", webhook_token="wh-tok", base_url=url),
        lambda url: ViksaSyncClient("tok-access-1", base_url=url),
        lambda url: ViksaClient(base_url=url),  # to log in later
    ],
)
def test_a_base_url_with_user_info_is_refused_and_not_quoted(
    make: Callable[[str], object],
) -> None:
    # httpx sends a URL's user info as Basic auth in place of the client's Authorization:
    # every call went without its key (a 401), and the password went to the platform.
    with pytest.raises(ViksaConfigError) as caught:
        make("https://u:pass-phrase-9@api.viksa.test:8443/gw")
    message = str(caught.value)
    assert message.startswith("base_url must not hold a user name or password")
    assert "'https://api.viksa.test:8443/gw'" in message
    _assert_clean(message)
    assert "u:" not in message


async def test_reprs_of_header_settings_redact_credential_values() -> None:
    headers = {"X-Gateway-Key": "gw-key-77", "Authorization": "Bearer gw-key-77", "X-Trace": "t1"}
    config = ClientConfig(default_headers=headers)
    options = RequestOptions(extra_headers=headers, timeout=5.0)
    client = ViksaClient("tok-access-1", config=config)
    try:
        texts = [repr(config), repr(options), repr(client), repr(client._settings)]
    finally:
        await client.aclose()
    for text in texts:
        _assert_clean(text)
    assert "'X-Gateway-Key': '[redacted]'" in texts[0]
    assert "'X-Trace': 't1'" in texts[0]  # only credential-like values are hidden
    assert texts[1].startswith("RequestOptions(timeout=5.0, extra_headers={")
    assert "'Authorization': '[redacted]'" in texts[1]
    assert repr(RequestOptions()) == (
        "RequestOptions(timeout=None, extra_headers=None, extra_query=None, "
        "idempotency_key=None, retry=None)"
    )


def test_the_repr_of_request_options_redacts_credential_query_values() -> None:
    # extra_query={"api_key": ...} showed the key in the repr, while the debug log of the
    # same request redacts it.
    options = RequestOptions(extra_query={"api_key": "gw-key-77", "limit": 5})
    text = repr(options)
    _assert_clean(text)
    assert "extra_query={'api_key': '[redacted]', 'limit': 5}" in text


# Values no transport can send: line breaks (header injection), controls, non-ASCII
# (httpx encodes str headers as ASCII), and outer whitespace (h11 refuses, aiohttp sends).
BAD_VALUES = [
    "gw-key-77\n",
    "gw-key-77\r\nX-Evil: 1",
    "gw-\x01key-77",
    "gw-key-77\u00e9",
    " gw-key-77",
]


@pytest.mark.parametrize("bad", BAD_VALUES)
async def test_unsendable_extra_headers_raise_the_same_typed_error_on_both_transports(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], bad: str
) -> None:
    route = api.route().respond(200, json={})
    client = make_client()
    with pytest.raises(ViksaConfigError, match="'X-Gateway-Key'") as caught:
        await client.auth.usage(options=RequestOptions(extra_headers={"X-Gateway-Key": bad}))
    assert "RequestOptions.extra_headers" in str(caught.value)
    _assert_clean(str(caught.value))
    with pytest.raises(ViksaConfigError):  # streams go through the same check
        async for _ in client.chat.stream_execution(
            "c1", options=RequestOptions(extra_headers={"X-Gateway-Key": bad})
        ):
            pass
    assert route.call_count == 0  # refused before anything was sent


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_unsendable_default_headers_are_refused_when_the_client_is_built(
    backend: str, bad: str
) -> None:
    config = ClientConfig(default_headers={"X-Gateway-Key": bad})
    with pytest.raises(ViksaConfigError, match=r"ClientConfig\.default_headers") as caught:
        ViksaClient("tok-access-1", config=config, http_backend=backend)  # type: ignore[arg-type]
    _assert_clean(str(caught.value))
    with pytest.raises(ViksaConfigError, match="'X-Gateway-Key'"):
        ViksaSyncClient("tok-access-1", config=config)
    with pytest.raises(ViksaConfigError, match="user_agent"):
        ViksaSyncClient("tok-access-1", config=ClientConfig(user_agent=bad))


@pytest.mark.parametrize("name", ["Authorization: Bearer gw-key-77", "X Key", "", "X-\u00e9"])
async def test_header_names_that_are_not_tokens_are_refused_without_echo(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], name: str
) -> None:
    route = api.route().respond(200, json={})
    client = make_client()
    with pytest.raises(ViksaConfigError, match="not an HTTP token") as caught:
        await client.auth.usage(options=RequestOptions(extra_headers={name: "v"}))
    _assert_clean(str(caught.value))
    assert route.call_count == 0


async def test_idempotency_keys_and_tenant_ids_that_cannot_be_headers_are_refused(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.route().respond(200, json={})
    client = make_client()
    with pytest.raises(ViksaConfigError, match="idempotency_key"):
        await client.workflow.start("w1", options=RequestOptions(idempotency_key="k\n1"))
    with pytest.raises(ViksaConfigError, match="org_id"):
        make_client(org_id="org\r\nX-Evil: 1")
    with pytest.raises(ViksaConfigError, match="project_id"):
        make_client(project_id="p 1")
    assert route.call_count == 0


@pytest.mark.parametrize("good", ["", "a b", "a\tb", "Bearer x.y-z_~!#$%&'*+^`|", "~"])
async def test_sendable_header_values_are_sent_unchanged(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], good: str
) -> None:
    route = api.get("/auth/usage").respond(200, json={})
    client = make_client(config=ClientConfig(default_headers={"X-Default": good}))
    await client.auth.usage(options=RequestOptions(extra_headers={"X-Extra": good}))
    sent = route.calls.last.request.headers
    assert sent["X-Default"] == sent["X-Extra"] == good


# bytes headers, which httpx takes too: left to the transports, httpx quoted the value in
# its error and aiohttp raised a bare ValueError.
BAD_BYTES_HEADERS = [
    {"X-Gateway-Key": b"gw-key-77\r\nX-Evil: 1"},
    {b"X-Gateway-Key": b"gw-key-77\x00"},
    {b"Authorization: Bearer gw-key-77": b"v"},
    {"X-Gateway-Key": 77},
    {"X-Gateway-Key": None},
    {77: "gw-key-77"},
]


@pytest.mark.parametrize("headers", BAD_BYTES_HEADERS)
async def test_unsendable_bytes_or_non_text_headers_are_refused_alike_without_echo(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], headers: dict[Any, Any]
) -> None:
    route = api.route().respond(200, json={})
    client = make_client()
    with pytest.raises(ViksaConfigError, match=r"RequestOptions\.extra_headers") as caught:
        await client.auth.usage(options=RequestOptions(extra_headers=headers))
    _assert_clean(str(caught.value))
    with pytest.raises(ViksaConfigError, match=r"ClientConfig\.default_headers") as built:
        make_client(config=ClientConfig(default_headers=headers))
    _assert_clean(str(built.value))
    assert route.call_count == 0


async def test_sendable_bytes_headers_are_sent_and_redacted_in_reprs(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.get("/auth/usage").respond(200, json={})
    headers: dict[Any, Any] = {b"X-Api-Key": b"gw-key-77", b"X-Trace": b"t 1"}
    client = make_client(config=ClientConfig(default_headers=headers))
    await client.auth.usage()
    sent = route.calls.last.request.headers
    assert (sent["X-Api-Key"], sent["X-Trace"]) == ("gw-key-77", "t 1")
    texts = [
        repr(ClientConfig(default_headers=headers)),
        repr(RequestOptions(extra_headers=headers)),
    ]
    for text in texts:
        _assert_clean(text)
        assert "b'X-Api-Key': '[redacted]'" in text


@given(name=st.binary(max_size=12), value=st.binary(max_size=12))
def test_accepted_bytes_headers_are_sendable_and_refused_ones_never_echo_the_value(
    name: bytes, value: bytes
) -> None:
    secret = b"gw-key-77" + value
    refused: ViksaConfigError | None = None
    try:
        check_headers({name: secret}, "extra_headers")
    except ViksaConfigError as exc:
        refused = exc
    if refused is not None:
        assert "gw-key-77" not in str(refused)
        return
    request = httpx.Request("GET", "https://api.viksa.test/", headers={name: secret})
    h11.Connection(h11.CLIENT).send(
        h11.Request(method="GET", target="/", headers=request.headers.raw)
    )


@given(name=st.text(max_size=12), value=st.text(max_size=12))
def test_accepted_headers_are_sendable_and_refused_ones_never_echo_the_value(
    name: str, value: str
) -> None:
    secret = f"gw-key-77{value}"
    refused: ViksaConfigError | None = None
    try:
        check_headers({name: secret}, "extra_headers")
    except ViksaConfigError as exc:
        refused = exc
    if refused is not None:
        assert "gw-key-77" not in str(refused)
        return
    # What the check lets through, httpx can encode and h11 puts on the wire.
    request = httpx.Request("GET", "https://api.viksa.test/", headers={name: secret})
    assert request.headers[name] == secret
    h11.Connection(h11.CLIENT).send(
        h11.Request(method="GET", target="/", headers=request.headers.raw)
    )


async def test_logs_redact_headers_queries_and_bodies(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    api.get("/builder/secret/s1").respond(200, json={"id": "s1"})
    api.post("/builder/secret/create").respond(503)
    api.post("/auth/individual/login").respond(401, json={"detail": "bad password hunter2"})
    client = make_client(
        access_token="tok-access-1",
        refresh_token="tok-refresh-1",
        config=ClientConfig(retry=RetryConfig(max_retries=1)),
    )
    with caplog.at_level(logging.DEBUG, logger="viksa_ai"):
        await client.builder.secrets.get_secret("s1", passphrase="pass-phrase-9")
        with pytest.raises(ViksaServerError):
            await client.builder.secrets.create_secret("db", "hunter2", passphrase="pass-phrase-9")
        with pytest.raises(Exception, match="bad password"):
            await client.auth.login("me@example.com", "hunter2")
    text = caplog.text
    _assert_clean(text)
    assert "request GET" in text
    assert "[redacted]" in text
    assert "retrying POST /builder/secret/create" in text
    assert all(record.name.startswith("viksa_ai") for record in caplog.records)


async def test_a_query_in_a_raw_path_reaches_no_error_or_log_line(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # client.request("GET", "/builder", "/x?api_key=...") showed the query in the error's
    # message and path, and in the retry and response log lines (the request's own line
    # redacted it).
    route = api.get("/builder/widgets").respond(503, text="down")
    client = make_client(config=ClientConfig(retry=RetryConfig(max_retries=1)))
    with (
        caplog.at_level(logging.DEBUG, logger="viksa_ai"),
        pytest.raises(ViksaServerError) as caught,
    ):
        await client.request("GET", "/builder", "/widgets?api_key=pass-phrase-9#frag")
    assert route.calls.last.request.url.params["api_key"] == "pass-phrase-9"  # still sent
    error = caught.value
    for text in (str(error), repr(error), error.path, caplog.text):
        _assert_clean(text)
    assert error.path == "/builder/widgets"
    assert "retrying GET /builder/widgets in" in caplog.text


async def test_the_http_librarys_own_log_lines_hide_secrets_of_the_url(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    make_sync_client: Callable[..., ViksaSyncClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # httpx logs every request's URL at INFO: a common logging.basicConfig(level=INFO)
    # showed a secret's passphrase, which the wire contract puts in the query.
    api.get("/builder/secret/s1").respond(200, json={"id": "s1"})
    with caplog.at_level(logging.DEBUG):
        await make_client().builder.secrets.get_secret("s1", passphrase="pass-phrase-9")
        make_sync_client().builder.secrets.get_secret("s1", passphrase="pass-phrase-9")
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert len(lines) == 2
    for line in lines:
        assert "/builder/secret/s1?passphrase=" + quote(REDACTED) in line
        assert '"HTTP/1.1 200 OK"' in line
    _assert_clean(caplog.text)


@pytest.mark.parametrize(
    "bad", ["tok-access-1\n", " tok-access-1", "tok-access-1\r\nX: y", "tok-\u00e9"]
)
@pytest.mark.parametrize(
    "make",
    [
        lambda token: ViksaClient(token),
        lambda token: ViksaClient.from_api_key(token),
        lambda token: ViksaClient.webhook("trig-1", webhook_token=token),
        lambda token: ViksaSyncClient(token),
        lambda token: ViksaSyncClient.webhook("trig-1", webhook_token=token),
    ],
)
def test_tokens_that_cannot_be_a_header_are_refused_without_echo(
    make: Callable[[str], object], bad: str
) -> None:
    # A token read from a file keeps its line break; httpx would then fail every call
    # with an error quoting the whole Authorization header.
    with pytest.raises(ViksaConfigError, match="strip it") as caught:
        make(bad)
    assert "tok-" not in str(caught.value)


def test_viksa_log_env_turns_logging_on_with_redaction() -> None:
    script = textwrap.dedent(
        """
        import httpx
        from viksa_ai.client import ViksaSyncClient

        def answer(request):
            return httpx.Response(200, json={"id": "u", "email": "e", "account_id": "a"})

        http = httpx.Client(transport=httpx.MockTransport(answer))
        client = ViksaSyncClient(
            "tok-access-1", base_url="https://api.viksa.test", http_client=http
        )
        client.auth.me()
        client.close()
        print("still open:", not http.is_closed)
        """
    )
    env = {**os.environ, "VIKSA_LOG": "debug"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "request GET https://api.viksa.test/auth/me" in done.stderr
    assert "'authorization': '[redacted]'" in done.stderr
    assert "response GET /auth/me -> 200" in done.stderr
    _assert_clean(done.stderr + done.stdout)
    assert "still open: True" in done.stdout


async def test_warns_once_when_a_token_would_travel_over_plain_http(
    api: respx.MockRouter,
) -> None:
    route = api.get("http://api.example.com/auth/usage").respond(200, json={})
    async with ViksaClient("tok-access-1", base_url="http://api.example.com") as client:
        with pytest.warns(ViksaInsecureTransportWarning, match="plain http") as warned:
            await client.auth.usage()
        assert warned[0].filename == __file__  # it points at the caller's line
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            await client.auth.usage()  # once per client
    assert route.call_count == 2


@pytest.mark.parametrize("base", ["http://localhost:8000", "http://127.0.0.1:9", "http://[::1]:8"])
async def test_no_warning_for_loopback(api: respx.MockRouter, base: str) -> None:
    api.get(f"{base}/auth/usage").respond(200, json={})
    async with ViksaClient("tok-access-1", base_url=base) as client:
        await client.auth.usage()  # filterwarnings=error would fail on a warning


async def test_traversal_id_stays_in_its_route(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.get(url__regex=r".*").respond(200, json={})
    client = make_client()
    await client.builder.agents.get("../auth/me")
    assert route.calls.last.request.url.raw_path == b"/builder/agent/..%2Fauth%2Fme"


@pytest.mark.parametrize(
    "agent_id", ["a/b", "x?admin=1#frag", "100%", "vol ✈", "...", "%2e%2e", "a;b=c", "~u"]
)
async def test_ids_are_one_encoded_segment(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], agent_id: str
) -> None:
    route = api.patch(url__regex=r".*").respond(200, json={})
    client = make_client()
    await client.builder.agents.set_endpoint_status(agent_id, agent_id, enabled=True)
    request = route.calls.last.request
    assert request.url.query == b""
    segments = request.url.raw_path.decode("ascii").split("/")
    # The transports may normalise the escaping of harmless characters, never the split.
    assert len(segments) == 7
    assert segments[:3] == ["", "builder", "agent"]
    assert segments[4] == "endpoint"
    assert segments[6] == "status"
    assert unquote(segments[3]) == unquote(segments[5]) == agent_id


@pytest.mark.parametrize("agent_id", ["", ".", ".."])
async def test_dot_and_empty_ids_are_refused(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], agent_id: str
) -> None:
    route = api.route().respond(200, json={})
    client = make_client()
    with pytest.raises(ValueError, match="not a valid id"):
        await client.builder.agents.get(agent_id)
    with pytest.raises(ValueError, match="not a valid id"):
        await client.builder.agents.set_endpoint_status("a", agent_id, enabled=True)
    assert route.call_count == 0


def test_non_string_ids_are_refused() -> None:
    with ViksaSyncClient("t") as client, pytest.raises(TypeError, match="must be a str"):
        client.builder.agents.get(5)  # type: ignore[arg-type]


def test_no_class_defines_del() -> None:
    for cls in (
        ViksaClient,
        ViksaSyncClient,
        AsyncEventStream,
        EventStream,
        AsyncViksaWebhook,
        ViksaWebhook,
    ):
        assert "__del__" not in vars(cls), cls


def _lower_hex(text: str) -> str:
    """Percent escapes in lower-case hex, as some servers write them."""
    return re.sub("%[0-9A-F]{2}", lambda match: match.group().lower(), text)


def _echoed_forms(secret: str) -> list[str]:
    """The ways a server echoing a request may write a secret back."""
    return [
        secret,
        quote(secret, safe=""),
        _lower_hex(quote(secret, safe="")),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    ]


@settings(max_examples=300, database=None, derandomize=True)
@given(
    st.text(min_size=6, max_size=24).filter(lambda s: s.strip() == s and "[" not in s),
    st.text(max_size=10),
    st.text(max_size=10),
)
def test_scrub_finds_a_secret_in_every_echoed_form(secret: str, before: str, after: str) -> None:
    from viksa_ai.client._error_mapping import scrub

    for form in _echoed_forms(secret):
        text = f"{before}<{form}>{after}"
        scrubbed = scrub(text, [secret])
        assert f"<{REDACTED}>" in scrubbed, form
        assert scrub({"detail": [text]}, [secret]) == {"detail": [scrubbed]}


@pytest.mark.parametrize(
    "make",
    [
        lambda: ViksaClient(api_key=""),
        lambda: ViksaClient.from_api_key(""),
        lambda: ViksaSyncClient.from_api_key(""),
        lambda: ViksaClient(access_token=""),
        lambda: ViksaSyncClient(""),
        # A webhook's empty token was sent as "Authorization: Bearer ".
        lambda: ViksaClient.webhook("trig-1", webhook_token=""),
        lambda: ViksaSyncClient.webhook("trig-1", webhook_token=""),
        lambda: WebhookClient("trig-1", webhook_token=""),
    ],
)
def test_an_empty_credential_is_refused_when_the_client_is_built(
    make: Callable[[], object],
) -> None:
    # os.environ.get("MY_KEY", "") would otherwise build a client that sends no
    # Authorization at all, and the platform's 401 would not say why.
    with pytest.raises(ViksaConfigError, match=r"is empty: pass the .*, or None"):
        make()


_KEY_CHARS = "ABCDEFGHIJKLMNOP0123456789"


@settings(max_examples=300, database=None, derandomize=True)
@given(
    st.text(_KEY_CHARS, min_size=8, max_size=40),
    st.sampled_from([0, 1, 2]),  # which echoed form: raw, percent-encoded, \u escapes
    st.lists(st.text("xyz .", max_size=30), min_size=1, max_size=6),
    st.integers(1, 120),
    st.booleans(),
)
def test_a_cut_answer_keeps_no_part_of_a_secret(
    secret: str, form: int, pads: list[str], limit: int, cut_short: bool
) -> None:
    from viksa_ai.client._error_mapping import scrub_cut

    echoed = [
        secret,
        quote(secret, safe="").replace("A", "%41"),
        "".join(f"\\u{ord(c):04x}" for c in secret),
    ][form]
    text = echoed.join(pads)
    if cut_short and form == 0:  # the body was read no further than inside a secret
        # (a start of an encoded form is not recognised: only the raw one)
        text += echoed[: len(echoed) // 2]
    kept = scrub_cut(text, [secret], limit, cut_short=cut_short)
    assert len(kept) <= limit
    # No key character survives: the pads hold none, so any would be part of the secret.
    leftover = kept.replace(REDACTED, "").replace("\\u", "").replace("%", "")
    assert not set(leftover) & set(_KEY_CHARS) - set("0123456789"), kept


def test_a_cut_answer_without_secrets_is_only_cut() -> None:
    from viksa_ai.client._error_mapping import scrub_cut

    assert scrub_cut("abcdef", [], 4) == "abcd"
    assert scrub_cut("abcdef", ["zzzzzzzz"], 4) == "abcd"
    assert scrub_cut("abc zz", ["zzzzzzzz"], 40, cut_short=True) == "abc "


@pytest.mark.parametrize("kind", ["text", "model", "stream"])
async def test_a_key_straddling_the_end_of_raw_leaves_none_of_it(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    make_sync_client: Callable[..., ViksaSyncClient],
    kind: str,
) -> None:
    # `raw` keeps the first 2000 characters of an answer: a key echoed across that line
    # kept its first characters when the text was cut before it was scrubbed.
    key = "vk_live_0123456789abcdefSECRET"
    pad = "x" * 1980
    if kind == "text":
        api.get("/auth/usage").respond(200, text=pad + key, headers={"content-type": "text/html"})
    elif kind == "model":
        api.get("/auth/me").respond(200, json={"id": 1, "email": pad + key, "account_id": "a"})
    else:
        api.get("/chat/execution/c1/stream").respond(
            200, text=pad + key + "x" * 5000, headers={"content-type": "text/html"}
        )

    async def run_async(client: ViksaClient) -> None:
        if kind == "text":
            await client.auth.usage()
        elif kind == "model":
            await client.auth.me()
        else:
            _ = [event async for event in client.chat.stream_execution("c1")]

    def run_sync(client: ViksaSyncClient) -> None:
        if kind == "text":
            client.auth.usage()
        elif kind == "model":
            client.auth.me()
        else:
            _ = list(client.chat.stream_execution("c1"))

    with pytest.raises(ViksaDecodeError) as async_error:
        await run_async(make_client(api_key=key, access_token=None))
    with pytest.raises(ViksaDecodeError) as sync_error:
        run_sync(make_sync_client(api_key=key, access_token=None))
    for error in (async_error.value, sync_error.value):
        assert "x" * 1900 in error.raw
        assert "vk_" not in error.raw


def _viksa_objects_of_frames(error: BaseException) -> list[tuple[str, object]]:
    """The SDK's own objects in the frames of ``error``'s traceback and its causes.

    Error trackers (Sentry's ``include_local_variables``, rich tracebacks) show each
    frame's locals by their ``repr``.
    """
    found: list[tuple[str, object]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            for name, value in tb.tb_frame.f_locals.items():
                if type(value).__module__.startswith("viksa_ai."):
                    found.append((f"{tb.tb_frame.f_code.co_name}.{name}", value))
            tb = tb.tb_next
        current = current.__cause__ or current.__context__
    return found


async def test_the_sdks_objects_in_a_traceback_show_no_secret(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], base_url: str
) -> None:
    # The repr of a call's description held its body (a password, a refresh token) and
    # its query (a passphrase).
    api.post("/auth/individual/login").respond(500, json={"detail": "down"})
    api.post("/auth/refresh").respond(500, json={"detail": "down"})
    api.get("/auth/me").respond(401, json={"detail": "expired"})
    api.get("/builder/secret/s1").respond(500)
    client = make_client(
        access_token="tok-access-1",
        refresh_token="tok-refresh-1",
        base_url=base_url,
        config=ClientConfig(retry=RetryConfig(max_retries=0)),
    )
    ops: list[Callable[[], Awaitable[object]]] = [
        lambda: client.auth.login("me@example.com", "hunter2"),
        client.auth.me,
        lambda: client.builder.secrets.get_secret("s1", passphrase="pass-phrase-9"),
    ]
    for op in ops:
        with pytest.raises(ViksaError) as caught:
            await op()
        objects = _viksa_objects_of_frames(caught.value)
        assert {type(value).__name__ for _, value in objects} >= {"Call", "Plan", "Settings"}
        for where, value in objects:
            text = repr(value)
            for secret in SECRETS:
                assert secret not in text, (where, text)


def _pipeline_locals(error: BaseException) -> list[tuple[str, str]]:
    """``(frame.name, repr)`` of every local of the client's pipeline frames in the
    traceback of ``error`` (not an operation's own frame: its arguments are the caller's)."""
    found: list[tuple[str, str]] = []
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if "viksa_ai/client" in code.co_filename and "/resources/" not in code.co_filename:
            found += [(f"{code.co_name}.{k}", repr(v)) for k, v in tb.tb_frame.f_locals.items()]
        tb = tb.tb_next
    return found


def _assert_no_secret(found: list[tuple[str, str]]) -> None:
    for where, text in found:
        for secret in SECRETS:
            assert secret not in text, (where, text)


async def test_the_pipelines_locals_in_an_api_errors_traceback_show_no_secret(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    make_sync_client: Callable[..., ViksaSyncClient],
) -> None:
    # The request loop's frame held the attempt's httpx.Request, whose repr is the full
    # URL: a secret's passphrase (a query parameter) reached every error tracker that
    # shows locals (Sentry's include_local_variables, pytest -l).
    api.get("/builder/secret/s1").respond(500, json={"detail": "down"})
    config = ClientConfig(retry=RetryConfig(max_retries=0))
    errors: list[BaseException] = []
    with pytest.raises(ViksaServerError) as caught:
        await make_client(config=config).builder.secrets.get_secret(
            "s1", passphrase="pass-phrase-9"
        )
    errors.append(caught.value)
    with pytest.raises(ViksaServerError) as caught_sync:
        make_sync_client(config=config).builder.secrets.get_secret("s1", passphrase="pass-phrase-9")
    errors.append(caught_sync.value)
    for error in errors:
        found = _pipeline_locals(error)
        assert any(where.startswith("_send.") for where, _ in found)
        _assert_no_secret(found)


async def test_the_pipelines_locals_show_no_query_written_into_a_raw_path(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    make_sync_client: Callable[..., ViksaSyncClient],
) -> None:
    # client.request sends a query written into its path as it is, and errors and logs
    # show the path without it; the call's repr (in the plan's, in the pipeline's frames)
    # showed it whole.
    api.get("/builder/secret/s1").respond(500, json={"detail": "down"})
    config = ClientConfig(retry=RetryConfig(max_retries=0))
    raw = "/secret/s1?passphrase=pass-phrase-9#gw-key-77"
    errors: list[BaseException] = []
    with pytest.raises(ViksaServerError) as caught:
        await make_client(config=config).request("GET", "/builder", raw)
    errors.append(caught.value)
    with pytest.raises(ViksaServerError) as caught_sync:
        make_sync_client(config=config).request("GET", "/builder", raw)
    errors.append(caught_sync.value)
    for error in errors:
        found = _pipeline_locals(error)
        assert any(where == "_send.plan" and "/secret/s1" in text for where, text in found)
        # Not the operation's own frame: its arguments are the caller's.
        _assert_no_secret([item for item in found if not item[0].startswith("request.")])


async def test_a_callers_client_that_follows_redirects_sends_no_password_elsewhere(
    api: respx.MockRouter,
) -> None:
    # httpx drops Authorization on a redirect to another host, but a 307 or 308 sends
    # the body again: the login's password (or a secret's value) and the caller's
    # default headers went to wherever the Location pointed.
    api.post("/auth/individual/login").respond(
        307, headers={"Location": "https://elsewhere.test/collect"}
    )
    elsewhere = api.route(host="elsewhere.test").respond(200, json={})
    config = ClientConfig(default_headers={"X-Api-Key": "gw-key-77"})
    async_client = ViksaClient(
        base_url="https://api.viksa.test",
        config=config,
        http_client=httpx.AsyncClient(follow_redirects=True),
    )
    sync_client = ViksaSyncClient(
        base_url="https://api.viksa.test",
        config=config,
        http_client=httpx.Client(follow_redirects=True),
    )
    with pytest.raises(ViksaError) as async_error:
        await async_client.auth.login("me@example.com", "hunter2")
    with pytest.raises(ViksaError) as sync_error:
        sync_client.auth.login("me@example.com", "hunter2")
    assert not elsewhere.called
    for error in (async_error.value, sync_error.value):
        assert getattr(error, "status_code", None) == 307
    await async_client.http_client.aclose()
    sync_client.http_client.close()


@pytest.mark.parametrize(
    "url",
    [
        "https://someone:hunter2@api.test/?x=1",
        "https://someone:hunter2@[::1",
        "https://someone:hunter2@api.test:99999",
        "ftp://someone:hunter2@api.test",
        "someone:hunter2@api.test",
        "//someone:hunter2@api.test",
        "https:/someone:hunter2@api.test",
        "https://someone:hunter2@api.test#frag",
    ],
)
def test_a_refused_base_url_is_shown_without_its_user_info(url: str) -> None:
    # The error quoted the whole URL, password included.
    with pytest.raises(ViksaConfigError, match="must be an http") as caught:
        ViksaSyncClient("tok-access-1", base_url=url)
    assert "hunter2" not in str(caught.value)
    assert "someone" not in str(caught.value)


async def test_httpcores_debug_lines_hide_secret_answer_headers(
    hostile: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # httpcore logs each answer's headers at DEBUG: a session cookie showed as it came.
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Set-Cookie: sid=cookie-secret-5; HttpOnly\r\nContent-Length: 2\r\n\r\n{}"
    )

    async def handler(reader: Any, writer: Any) -> None:
        await hostile.read_request(reader)
        writer.write(answer)

    hostile.handler = handler

    def sync_call() -> None:
        with ViksaSyncClient("tok-access-1", base_url=hostile.url) as client:
            client.auth.usage()

    with caplog.at_level(logging.DEBUG):
        async with ViksaClient("tok-access-1", base_url=hostile.url) as client:
            await client.auth.usage()
        await asyncio.to_thread(sync_call)
    lines = [r.getMessage() for r in caplog.records if r.name == "httpcore.http11"]
    answers = [line for line in lines if line.startswith("receive_response_headers.complete")]
    assert len(answers) == 2
    for line in answers:
        assert f"(b'Set-Cookie', b'{REDACTED}')" in line
        assert "(b'Content-Type', b'application/json')" in line
    assert "cookie-secret-5" not in caplog.text


def test_hpacks_debug_lines_hide_secret_headers(caplog: pytest.LogCaptureFixture) -> None:
    # A caller's `httpx.AsyncClient(http2=True)` encodes headers with hpack, which logs
    # them at DEBUG, the request's Authorization included. h2 is not installed here: the
    # records are made as hpack's encoder, decoder and table make them.
    ViksaClient("tok-access-1")  # the filter is installed with a client's settings
    encoder = logging.getLogger("hpack.hpack")
    table = logging.getLogger("hpack.table")
    sent = [(b":method", b"GET"), (b"authorization", b"Bearer tok-access-1")]
    with caplog.at_level(logging.DEBUG):
        encoder.debug("HPACK encoding %s", sent)
        encoder.debug("HPACK encoding %s", {"x-api-key": "vk_live_secret", "accept": "*/*"})
        encoder.debug("Decoded %s, consumed %d", (b"set-cookie", b"sid=cookie-secret-5"), 9)
        table.debug("Adding %s to the header table", (b"authorization", b"Bearer tok-access-1"))
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        f"HPACK encoding [(b':method', b'GET'), (b'authorization', b'{REDACTED}')]",
        f"HPACK encoding {{'x-api-key': '{REDACTED}', 'accept': '*/*'}}",
        f"Decoded (b'set-cookie', b'{REDACTED}'), consumed 9",
        f"Adding (b'authorization', b'{REDACTED}') to the header table",
    ]
    assert sent[1] == (b"authorization", b"Bearer tok-access-1")  # hpack's own data intact
    _assert_clean(caplog.text)
    assert "cookie-secret-5" not in caplog.text
