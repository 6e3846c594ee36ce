"""Error answers and transport failures become the typed errors of the README's table."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import viksa_ai
from viksa_ai.client import (
    ClientConfig,
    ErrorDetail,
    HttpBackend,
    RetryConfig,
    ViksaApiError,
    ViksaAuthenticationError,
    ViksaClient,
    ViksaConflictError,
    ViksaDecodeError,
    ViksaError,
    ViksaNotFoundError,
    ViksaPermissionError,
    ViksaRateLimitError,
    ViksaServerError,
    ViksaSyncClient,
    ViksaTimeoutError,
    ViksaTransportError,
    ViksaValidationError,
)
from viksa_ai.client._error_mapping import parse_details, raise_for_response
from viksa_ai.client._pipeline import _mismatch

NO_RETRY = ClientConfig(retry=RetryConfig(max_retries=0))


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ViksaApiError),
        (401, ViksaAuthenticationError),
        (403, ViksaPermissionError),
        (404, ViksaNotFoundError),
        (409, ViksaConflictError),
        (418, ViksaApiError),
        (422, ViksaValidationError),
        (429, ViksaRateLimitError),
        (500, ViksaServerError),
        (502, ViksaServerError),
        (503, ViksaServerError),
        (504, ViksaServerError),
    ],
)
async def test_status_maps_to_its_class(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    status: int,
    cls: type[ViksaApiError],
) -> None:
    api.get("/builder/agent/x").respond(status, json={"detail": "nope"})
    client = make_client(config=NO_RETRY)
    with pytest.raises(cls) as info:
        await client.builder.agents.get("x")
    error = info.value
    assert type(error) is cls
    assert isinstance(error, ViksaApiError)
    assert isinstance(error, ViksaError)
    assert error.status_code == status
    assert (error.method, error.path, error.service) == ("GET", "/builder/agent/x", "builder")
    assert error.body == {"detail": "nope"}
    assert error.detail_message == "nope"
    assert error.response is not None
    assert error.response.status_code == status


def test_error_classes_are_exported_from_both_places() -> None:
    names = [
        "ViksaError",
        "ViksaApiError",
        "ViksaTransportError",
        "ViksaTimeoutError",
        "ViksaAuthenticationError",
        "ViksaPermissionError",
        "ViksaNotFoundError",
        "ViksaConflictError",
        "ViksaValidationError",
        "ViksaRateLimitError",
        "ViksaServerError",
    ]
    import viksa_ai.client as client_module

    for name in names:
        assert getattr(viksa_ai, name) is getattr(client_module, name)
        assert issubclass(getattr(client_module, name), ViksaError)
    assert issubclass(ViksaTimeoutError, ViksaTransportError)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"detail": "Agent not found"}, [ErrorDetail("Agent not found")]),
        (
            {"detail": {"message": "Name taken", "code": "conflict", "field": "agent_name"}},
            [ErrorDetail("Name taken", "agent_name", "conflict")],
        ),
        (
            {
                "detail": [
                    {"loc": ["body", "agent_name"], "msg": "field required", "type": "missing"},
                    {"loc": ["query", "limit"], "msg": "too big", "type": "less_than_equal"},
                    {"loc": ["body", "files", 0, "name"], "msg": "bad", "type": "value_error"},
                ]
            },
            [
                ErrorDetail("field required", "agent_name", "missing"),
                ErrorDetail("too big", "limit", "less_than_equal"),
                ErrorDetail("bad", "files.0.name", "value_error"),
            ],
        ),
        (
            {"message": "Quota exceeded", "code": "quota"},
            [ErrorDetail("Quota exceeded", None, "quota")],
        ),
        ({"error": "invalid_token"}, [ErrorDetail("invalid_token")]),
        ({"error": {"message": "Denied", "code": "rbac"}}, [ErrorDetail("Denied", None, "rbac")]),
        ("Bad Gateway\n", [ErrorDetail("Bad Gateway")]),
        ({"unexpected": True}, []),
        (None, []),
        ({"detail": None, "message": "fallback"}, [ErrorDetail("fallback")]),
    ],
)
def test_every_detail_shape(body: Any, expected: list[ErrorDetail]) -> None:
    assert parse_details(body) == expected


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=8), children, max_size=3)
        ),
        max_leaves=12,
    )
)
def test_parse_details_never_fails(body: Any) -> None:
    details = parse_details(body)
    assert all(isinstance(detail.message, str) for detail in details)


async def test_str_is_one_line_with_the_context(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/builder/agent/missing-id").respond(
        404,
        json={"detail": "Agent\nnot   found"},
        headers={"X-Request-Id": "req-123"},
    )
    client = make_client()
    with pytest.raises(ViksaNotFoundError) as info:
        await client.builder.agents.get("missing-id")
    text = str(info.value)
    assert (
        text == "builder GET /builder/agent/missing-id -> 404: Agent not found (request id req-123)"
    )
    assert "\n" not in repr(info.value)
    assert info.value.request_id == "req-123"


async def test_correlation_id_and_reason_phrase_fallback(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.delete("/chat/trigger/t1").respond(409, headers={"X-Correlation-Id": "corr-9"})
    client = make_client()
    with pytest.raises(ViksaConflictError) as info:
        await client.chat.triggers.delete("t1")
    assert info.value.request_id == "corr-9"
    assert info.value.body is None
    assert info.value.details == []
    assert info.value.detail_message == "Conflict"
    assert str(info.value).endswith("-> 409: Conflict (request id corr-9)")


async def test_long_messages_are_cut(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/auth/usage").respond(500, text="x" * 5000)
    client = make_client(config=NO_RETRY)
    with pytest.raises(ViksaServerError) as info:
        await client.auth.usage()
    assert len(str(info.value)) < 400
    assert info.value.body == "x" * 5000


async def test_rate_limit_carries_retry_after(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/auth/me").respond(429, json={"detail": "slow down"}, headers={"Retry-After": "7"})
    client = make_client(config=NO_RETRY)
    with pytest.raises(ViksaRateLimitError) as info:
        await client.auth.me()
    assert info.value.retry_after == 7.0


async def test_validation_error_echo_is_scrubbed_of_the_password(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.post("/auth/individual/login").respond(
        422,
        json={
            "detail": [
                {
                    "loc": ["body", "password"],
                    "msg": "weak password hunter2-secret",
                    "type": "value_error",
                    "input": "hunter2-secret",
                }
            ]
        },
    )
    client = make_client()
    with pytest.raises(ViksaValidationError) as info:
        await client.auth.login("me@example.com", "hunter2-secret")
    error = info.value
    assert "hunter2-secret" not in str(error)
    assert "hunter2-secret" not in repr(error)
    assert "hunter2-secret" not in repr(error.body)
    assert "hunter2-secret" not in repr(error.details)
    assert error.details[0].field == "password"


@pytest.mark.parametrize("field", ["value", "passphrase", "current_passphrase"])
async def test_an_update_secret_echo_is_scrubbed_of_every_secret_it_sent(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], field: str
) -> None:
    # The current passphrase travels in the body too (the local platform asks for it to
    # change a protected secret's passphrase): an echo of it must not reach the error.
    echoed = {"loc": ["body", field], "msg": "bad pp-old-secret", "input": "pp-old-secret"}
    api.put("/builder/secret/s1").respond(422, json={"detail": [{**echoed, "type": "x"}]})
    client = make_client()
    with pytest.raises(ViksaValidationError) as info:
        await client.builder.secrets.update_secret("s1", {field: "pp-old-secret"})
    assert "pp-old-secret" not in str(info.value)
    assert "pp-old-secret" not in repr(info.value.body)


async def test_validation_error_message_names_the_field(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    # FastAPI's "Field required" alone does not say which field to add.
    api.post("/chat/trigger").respond(
        422,
        json={
            "detail": [
                {"loc": ["body", "agent_id"], "msg": "Field required", "type": "missing"},
                {"loc": ["body", "name"], "msg": "Field required", "type": "missing"},
            ]
        },
    )
    client = make_client()
    with pytest.raises(ViksaValidationError) as info:
        await client.chat.triggers.create({"trigger_type": "webhook"})
    error = info.value
    assert "agent_id: Field required (and 1 more problem)" in str(error)
    assert error.detail_message == "Field required"


@pytest.mark.parametrize(
    ("service", "detail", "expected"),
    [
        ("builder", ErrorDetail("agent_id is required", field="agent_id"), "agent_id is required"),
        (
            "pulse",
            ErrorDetail("required input 'name' is missing", field="inputs.name"),
            "required input 'name' is missing",
        ),
        ("pulse", ErrorDetail("a surname is needed", field="name"), "name: a surname is needed"),
    ],
)
def test_error_message_names_a_field_only_once(
    service: str, detail: ErrorDetail, expected: str
) -> None:
    error = ViksaValidationError(
        status_code=422, method="POST", path="/x", service=service, details=[detail]
    )
    assert str(error) == f"{service} POST /x -> 422: {expected}"


async def test_error_body_never_echoes_the_token(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/auth/me").respond(403, json={"detail": "token tok-access-1 lacks scope"})
    client = make_client()
    with pytest.raises(ViksaPermissionError) as info:
        await client.auth.me()
    assert "tok-access-1" not in str(info.value)
    assert "tok-access-1" not in repr(info.value.body)


async def test_a_transport_error_is_one_line(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], backend: HttpBackend
) -> None:
    # aiohttp's messages for a bad status line span several lines.
    api.get("/auth/me").mock(
        side_effect=httpx.RemoteProtocolError("400, message=\"Bad status line:\n  b'x'\n   ^\"")
    )
    client = make_client(config=NO_RETRY)
    with pytest.raises(ViksaTransportError) as info:
        await client.auth.me()
    assert "\n" not in str(info.value)
    if backend == "httpx":  # the bridge answers aiohttp's request by hanging up instead
        assert "Bad status line: b'x' ^" in str(info.value)


async def test_connection_error_is_a_transport_error(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/auth/me").mock(side_effect=httpx.ReadError("connection reset"))
    client = make_client(config=NO_RETRY)
    with pytest.raises(ViksaTransportError) as info:
        await client.auth.me()
    error = info.value
    assert not isinstance(error, ViksaTimeoutError)
    assert (error.method, error.path, error.service) == ("GET", "/auth/me", "auth")
    assert str(error).startswith("auth GET /auth/me: ")
    assert isinstance(error.__cause__, httpx.TransportError)


async def test_timeout_is_a_timeout_error(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/auth/me").mock(side_effect=httpx.ReadTimeout("timed out"))
    client = make_client(config=NO_RETRY, timeout=0.2)
    with pytest.raises(ViksaTimeoutError):
        await client.auth.me()


async def test_refused_connection_is_a_transport_error(backend: HttpBackend) -> None:
    # Port 9 on loopback: nothing listens, the connection is refused for real.
    async with ViksaClient(
        "t",
        base_url="http://127.0.0.1:9",
        http_backend=backend,
        config=NO_RETRY,
    ) as client:
        with pytest.raises(ViksaTransportError) as info:
            await client.auth.me()
    assert not isinstance(info.value, ViksaTimeoutError)


async def test_success_that_is_not_json_raises_decode_error(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/builder/agent/a").respond(200, html="<html>gateway</html>")
    client = make_client()
    with pytest.raises(ViksaDecodeError) as info:
        await client.builder.agents.get("a")
    assert info.value.raw == "<html>gateway</html>"
    # Which call, and a likely cause: a base_url that is some other web server.
    assert str(info.value).startswith(
        "builder GET /builder/agent/a: the platform answered a body that is not JSON "
    )
    assert "(HTTP 200, text/html" in str(info.value)
    assert "is base_url the Viksa API?" in str(info.value)


async def test_a_content_type_answered_shows_no_control_character(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    # The Content-Type is the platform's (or a proxy's) text, quoted in the message like
    # its error messages: ESC and CSI in it drove the terminal showing the error.
    kind = "text/x\x1b[2J\x1b]0;title\x07"
    api.get("/builder/agent/a").respond(200, content=b"<html>", headers={"content-type": kind})
    with pytest.raises(ViksaDecodeError) as info:
        await make_client().builder.agents.get("a")
    text = str(info.value)
    assert "(HTTP 200, text/x\ufffd[2J\ufffd]0)" in text
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)


def test_a_model_mismatch_shows_no_control_character_of_a_key_answered() -> None:
    # A location names the keys of the answer: ESC in one reached the message.
    class Shape(BaseModel):
        counts: dict[str, int]

    with pytest.raises(ValidationError) as caught:
        Shape.model_validate({"counts": {"\x1b[2J": "many"}})
    shown = _mismatch(caught.value)
    assert shown.startswith("counts.\ufffd[2J: ")
    assert "\x1b" not in shown


@pytest.mark.parametrize("depth", [900, 100_000])
async def test_json_nested_deeper_than_the_stack_ends_in_typed_errors(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], depth: int
) -> None:
    # 900 decodes but is too deep to walk for error details; 100_000 fails json.loads.
    deep = "[" * depth + "]" * depth
    api.get("/auth/me").respond(200, text=deep)
    api.get("/builder/agent/b").respond(400, text=deep)
    api.get("/chat/execution/c/stream").respond(
        200, text=f"data: {deep}\n\n", headers={"Content-Type": "text/event-stream"}
    )
    client = make_client(config=NO_RETRY)
    with pytest.raises(ViksaDecodeError):
        await client.auth.me()
    with pytest.raises(ViksaApiError) as failed:
        await client.builder.agents.get("b")
    assert failed.value.status_code == 400
    if depth > 1000:  # a stream event json.loads can still read is passed on as it is
        with pytest.raises(ViksaDecodeError):
            async for _ in client.chat.stream_execution("c"):
                pass
    with pytest.raises(ViksaApiError):
        raise_for_response(
            httpx.Response(400, text=deep), service="builder", method="GET", path="/b"
        )


async def test_typed_answer_that_does_not_match_raises_decode_error(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/auth/me").respond(200, json={"unexpected": 1})
    client = make_client()
    with pytest.raises(ViksaDecodeError, match="does not match the expected model"):
        await client.auth.me()


async def test_decode_errors_never_quote_secrets(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    # A malformed token answer: pydantic would quote the token it could not read.
    api.post("/auth/individual/login").respond(
        200, json={"access_token": "tok-new-9", "refresh_token": "tok-ref-9", "expires_in": "x"}
    )
    # An answer that echoes the key under validation, in a field of the wrong type.
    api.post("/auth/key/validate/api").respond(200, json={"valid": "vk_live_9", "k": "vk_live_9"})
    api.get("/builder/agent/a").respond(200, text="tok-access-1 is not JSON")
    client = make_client(access_token="tok-access-1")
    errors: list[ViksaDecodeError] = []
    for call in (
        lambda: client.auth.login("me@example.com", "hunter2"),
        lambda: client.auth.validate_api_key("vk_live_9"),
        lambda: client.builder.agents.get("a"),
    ):
        with pytest.raises(ViksaDecodeError) as info:
            await call()
        errors.append(info.value)
    assert "expires_in: Input should be a valid integer" in str(errors[0])
    assert "valid: Input should be a valid boolean" in str(errors[1])
    assert errors[2].raw == "[redacted] is not JSON"
    for error in errors:
        for secret in ("tok-new-9", "tok-ref-9", "vk_live_9", "tok-access-1"):
            assert secret not in str(error)
            assert secret not in error.raw


async def test_object_route_answering_a_list_raises_decode_error(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/builder/agent/a").respond(200, json=[1, 2])
    client = make_client()
    with pytest.raises(ViksaDecodeError, match="expected a JSON object"):
        await client.builder.agents.get("a")


def test_sync_client_raises_the_same_errors(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    api.get("/builder/agent/x").respond(404, json={"detail": "gone"}, headers={"x-request-id": "r"})
    client = make_sync_client()
    with pytest.raises(ViksaNotFoundError) as info:
        client.builder.agents.get("x")
    assert str(info.value) == "builder GET /builder/agent/x -> 404: gone (request id r)"


async def test_errors_survive_pickling(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/auth/me").respond(
        404, json={"detail": {"message": "gone", "field": "id"}}, headers={"x-request-id": "r9"}
    )
    client = make_client()
    with pytest.raises(ViksaNotFoundError) as info:
        await client.auth.me()
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is ViksaNotFoundError
    assert str(copy) == str(info.value)
    assert (copy.status_code, copy.request_id, copy.details) == (404, "r9", info.value.details)
    assert copy.response is None
    transport = pickle.loads(pickle.dumps(ViksaTimeoutError("slow", method="GET", path="/x")))
    assert (type(transport), str(transport), transport.path) == (
        ViksaTimeoutError,
        "GET /x: slow",
        "/x",
    )
    decode = pickle.loads(pickle.dumps(ViksaDecodeError("bad", raw="<html>", event="e")))
    assert (decode.raw, decode.event, str(decode)) == ("<html>", "e", "bad")


def test_a_failed_refresh_does_not_count_the_cause_it_quotes() -> None:
    from viksa_ai.client._refresh import refresh_failure

    cause = ViksaAuthenticationError(
        status_code=401,
        method="POST",
        path="/auth/refresh",
        service="auth",
        details=[ErrorDetail("The refresh token is invalid or expired")],
    )
    message = str(refresh_failure(cause))
    assert "token refresh failed (The refresh token is invalid or expired)" in message
    assert "more problem" not in message


class _CountingText(str):
    """A message that counts the searches made in it."""

    searches = 0

    def __contains__(self, other: object) -> bool:
        type(self).searches += 1
        return str.__contains__(self, other)  # type: ignore[operator]


def test_many_details_under_a_long_first_message_are_counted_in_linear_time() -> None:
    # Each other detail was searched for in the first message: a hostile 4 MB error body
    # ({"detail": [<4 MB>, "zz", ...]}) took 25 s of CPU to become an exception.
    _CountingText.searches = 0
    first = _CountingText("A" * 1000)
    error = ViksaApiError(
        status_code=400,
        method="GET",
        path="/x",
        service="s",
        details=[ErrorDetail(first), *[ErrorDetail("zz") for _ in range(5000)]],
    )
    assert "(and 5000 more problems)" in str(error)
    repr(error)
    assert _CountingText.searches <= 2 * 10  # a few per summary, not one per detail


# Any character, lone surrogates (which json.loads makes of "\ud800") included.
_ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)


@given(message=_ANY_TEXT, request_id=st.text(st.characters(max_codepoint=0xFF), max_size=20))
@example(message="a\ud800", request_id="")
@example(message="m", request_id="r\udc00\x1b[2J")
def test_str_of_an_error_can_always_be_printed(message: str, request_id: str) -> None:
    # A message holding a lone surrogate made print(error) and a UTF-8 log handler fail
    # with UnicodeEncodeError, and one holding ESC or CSI drove the terminal it was shown on.
    error = ViksaApiError(
        status_code=400,
        method="GET",
        path="/x",
        service="s",
        details=[ErrorDetail(message)],
        request_id=request_id or None,
    )
    for text in (str(error), repr(error)):
        text.encode("utf-8")
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)
    if message.isprintable() and message.isascii() and " ".join(message.split()) == message:
        assert message in str(error)


@given(
    body=st.recursive(
        _ANY_TEXT | st.none(),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["detail", "msg", "message", "loc", "code", "field"]),
                inner,
                max_size=4,
            )
        ),
    )
)
# A lone surrogate is rare among random characters: these make sure the run tries one.
@example(body={"detail": "\ud800"})
@example(body={"detail": [{"msg": "a\udc00", "loc": ["body", "x\ud800"], "type": "t"}]})
def test_details_of_any_body_can_be_printed(body: Any) -> None:
    # detail_message quoted a lone surrogate of the body as it was: printing it failed.
    for detail in parse_details(body):
        for text in (detail.message, detail.field or "", detail.code or ""):
            text.encode("utf-8")
