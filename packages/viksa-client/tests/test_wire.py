"""What a call puts on the wire and reads back: the URL, the bytes and headers a JSON
body goes out with, and typed answers (the one-step pydantic reader must give what
``json.loads`` + the model gave)."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import httpx
import pytest
import respx
from hypothesis import example, given
from hypothesis import strategies as st

from viksa_ai.client import (
    ClientConfig,
    RequestOptions,
    RetryConfig,
    ViksaClient,
    ViksaConfigError,
    ViksaDecodeError,
    ViksaSyncClient,
)
from viksa_ai.client._call import PULSE, Call
from viksa_ai.client._decode import (
    execution_response,
    execution_response_json,
    parse_body,
    to_json_body,
)
from viksa_ai.client._pipeline import _decoded
from viksa_ai.models.executor import AgentType, EndpointExecutionRequest

BASE = "https://api.viksa.test"  # the mocked platform (the api fixture)
ANSWER = {"status": "completed", "execution_id": "exe_1", "endpoint": "a.main.f"}
INPUTS: dict[str, Any] = {
    "text": 'é "quoted" \\ \n\t \u2028 \U0001f600 \x00',
    "big": 2**70,
    "float": 0.1,
    "nested": [[], {}, [1, [2, {"k": None}]], True, False],
}
REQUEST = EndpointExecutionRequest(
    agent_id="agt_1", agent_type=AgentType.CLOUD, endpoint="a.main.f", inputs=INPUTS
)
# What httpx adds to a request itself (Host) or for a json= body.
AUTO = frozenset({b"host", b"content-length", b"content-type"})
TRACE = frozenset({b"traceparent", b"tracestate", b"baggage"})


def httpx_json(value: Any) -> bytes:
    """The body httpx's own ``json=`` sends."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def as_httpx_would_send(sent: httpx.Request, body: Any, *, keep: frozenset[bytes]) -> list[Any]:
    """The headers of ``sent`` as httpx builds them for ``body`` passed as ``json=``: what
    the client sent when it did. ``keep`` are auto names left where they are; trace
    context headers (a test before may have installed a tracer) come after, as they
    are added to the built request."""
    headers = [(k, v) for k, v in sent.headers.raw if k.lower() not in AUTO - keep | TRACE]
    traced = [(k, v) for k, v in sent.headers.raw if k.lower() in TRACE]
    return httpx.Request(sent.method, sent.url, headers=headers, json=body).headers.raw + traced


def assert_sent_as_json(
    sent: httpx.Request, body: Any, *, keep: frozenset[bytes] = frozenset()
) -> None:
    assert sent.content == httpx_json(body)
    # The same names, values and order.
    assert sent.headers.raw == as_httpx_would_send(sent, body, keep=keep)


BODIES: dict[str, Any] = {
    "a dict": {"inputs": INPUTS, "n": [1.5, -0.0, 1e300]},
    "a mapping": MappingProxyType({"inputs": INPUTS}),
    "a list": [INPUTS, "é", 3],
    "a string": "é\u2028",
    "a number": 0,
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_a_json_body_goes_out_as_httpx_json_sends_it(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient], body: Any
) -> None:
    route = api.post("/pulse/x").respond(200, json={})
    make_sync_client(api_key="k", org_id="o", project_id="p").request(
        "POST", "/pulse", "/x", json=body
    )
    assert_sent_as_json(route.calls.last.request, to_json_body(body))


async def test_an_execute_goes_out_as_httpx_json_sends_the_model(api: respx.MockRouter) -> None:
    route = api.post("/pulse/executor/execute").respond(200, json=ANSWER)
    async with ViksaClient(api_key="k", org_id="o", project_id="p", base_url=BASE) as client:
        await client.pulse.execute(REQUEST, options=RequestOptions(extra_headers={"X-A": "1"}))
    sent = route.calls.last.request
    assert_sent_as_json(sent, REQUEST.model_dump(mode="json"))
    names = [k.lower() for k, _ in sent.headers.raw if k.lower() not in TRACE]
    assert names[-4:] == [b"idempotency-key", b"x-a", b"content-length", b"content-type"]


def test_the_same_bytes_and_key_go_out_on_a_retry(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    route = api.post("/pulse/executor/execute")
    route.side_effect = [httpx.Response(503), httpx.Response(200, json=ANSWER)]
    make_sync_client(retry=RetryConfig(max_retries=1)).pulse.execute(REQUEST)
    first, second = (call.request for call in route.calls)
    assert first.content == second.content == httpx_json(REQUEST.model_dump(mode="json"))
    assert first.headers.raw == second.headers.raw
    assert first.headers["idempotency-key"].startswith("viksa-")


@pytest.mark.parametrize("where", ["the call", "the config", "the http client"])
def test_a_content_type_the_caller_sets_is_kept(api: respx.MockRouter, where: str) -> None:
    # httpx never put its application/json over a caller's Content-Type, wherever set.
    route = api.post("/pulse/executor/execute").respond(200, json=ANSWER)
    options = RequestOptions(extra_headers={"content-type": "text/x+json"})
    config = ClientConfig(default_headers={"Content-Type": "text/x+json"})
    http = httpx.Client(headers={"CONTENT-TYPE": "text/x+json"})
    with ViksaSyncClient(
        access_token="t",
        base_url=BASE,
        config=config if where == "the config" else None,
        http_client=http if where == "the http client" else None,
    ) as client:
        client.pulse.execute(REQUEST, options=options if where == "the call" else None)
    http.close()
    sent = route.calls.last.request
    assert sent.headers.get_list("content-type") == ["text/x+json"]
    assert_sent_as_json(sent, REQUEST.model_dump(mode="json"), keep=frozenset({b"content-type"}))


@pytest.mark.parametrize(
    "body", [{"x": float("nan")}, {"x": float("inf")}, {"x": {1, 2}}, {"x": b"bytes"}, "\ud800"]
)
def test_a_body_json_cannot_encode_is_refused_before_sending(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient], body: Any
) -> None:
    route = api.post("/pulse/x").respond(200, json={})
    with pytest.raises(ViksaConfigError, match=r"^pulse POST: the request cannot be sent: "):
        make_sync_client().request("POST", "/pulse", "/x", json=body)
    assert not route.called


def test_a_post_without_a_body_sends_none(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    route = api.post("/pulse/x").respond(200, json={})
    make_sync_client().request("POST", "/pulse", "/x")
    sent = route.calls.last.request
    assert sent.content == b""
    assert sent.headers["content-length"] == "0"
    assert "content-type" not in sent.headers


# -- URLs --------------------------------------------------------------------------

PATHS = ["/a b/é/%2F/~x", "/builder/agent/agt_1", "/x;y=1/z", "/a//b/./c/../d"]


@pytest.mark.parametrize("path", PATHS)
def test_a_url_goes_out_as_httpx_parses_it_again_and_again(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient], path: str
) -> None:
    route = api.route().respond(200, json={})
    client = make_sync_client()
    for _ in range(2):  # parsed by httpx, then taken from the client's cache
        client.request("GET", "/pulse", path)
    first, again = (call.request.url for call in route.calls)
    expected = httpx.URL(BASE + "/pulse" + path)
    assert (str(first), first.raw_path) == (str(again), again.raw_path)
    assert (str(first), first.raw_path) == (str(expected), expected.raw_path)


def test_a_url_with_a_query_is_not_kept(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    route = api.route().respond(200, json={})
    client = make_sync_client()
    client.request("GET", "/pulse", "/x?api_key=s3cret#part")
    client.pulse.list_executions()
    assert route.calls.last.request.url.params["limit"] == "50"  # params: never in the URL
    assert route.calls[0].request.url.query == b"api_key=s3cret"
    assert list(client._defaults.urls) == [BASE + "/pulse/executor/executions"]


def test_the_parsed_urls_kept_are_bounded(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    api.route().respond(200, json={})
    client = make_sync_client()
    for number in range(300):
        client.request("GET", "/pulse", f"/x/{number}")
    assert 0 < len(client._defaults.urls) <= 256
    assert BASE + "/pulse/x/299" in client._defaults.urls


def test_an_invalid_url_is_still_refused_before_sending(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    route = api.route().respond(200, json={})
    with pytest.raises(ViksaConfigError, match="the request cannot be sent"):
        make_sync_client().request("GET", "/pulse", "/x\nHost: evil")
    assert not route.called


# -- answers -------------------------------------------------------------------------

EXECUTE = Call(
    method="POST",
    service=PULSE,
    path="/executor/execute",
    decode=execution_response,
    decode_json=execution_response_json,
)


def outcome(read: Callable[[], Any]) -> tuple[str, Any]:
    """What reading gives: the value's repr and fields set, or the error's type and text."""
    try:
        value = read()
    except (ViksaDecodeError, ValueError) as exc:
        return type(exc).__name__, str(exc)
    return repr(value), sorted(value.model_fields_set)


def the_long_way(content: bytes) -> tuple[str, Any]:
    return outcome(lambda: execution_response(parse_body(content)))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(
    fields=st.dictionaries(st.sampled_from(["status", "duration_ms", "error", "x"]), JSON),
    ascii_only=st.booleans(),
)
def test_a_typed_answer_reads_as_json_loads_and_the_model_read_it(
    fields: dict[str, Any], ascii_only: bool
) -> None:
    answer = {"execution_id": "e", "endpoint": "a.b.c", **fields}
    content = json.dumps(answer, ensure_ascii=ascii_only).encode()
    assert outcome(lambda: _decoded(EXECUTE, content)) == the_long_way(content)


@given(st.binary(max_size=64) | st.text(max_size=64).map(lambda t: t.encode("utf-8", "replace")))
@example(b'{"status":"s","execution_id":"e","endpoint":"a","response":"\\ud800"}')
@example(b'\xef\xbb\xbf{"status":"s","execution_id":"e","endpoint":"a"}')
@example('{"status":"s","execution_id":"e","endpoint":"a"}'.encode("utf-16"))
@example(b'{"status":"s","execution_id":"e","endpoint":"a","response":"a\x01"}')
@example(b'{"status":"s","execution_id":"e","endpoint":"a","response":[1,]}')
@example(
    b'{"status":"s","execution_id":"e","endpoint":"a","response":' + b"[" * 300 + b"]" * 300 + b"}"
)
@example(b'{"status":"s","execution_id":"e","endpoint":"a","response":NaN}')
@example(b"")
@example(b"null")
def test_any_answer_bytes_read_as_json_loads_and_the_model_read_them(content: bytes) -> None:
    assert outcome(lambda: _decoded(EXECUTE, content)) == the_long_way(content)


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (b"<html>", "the platform answered a body that is not JSON"),
        (b'{"status": "s"}', "the answer does not match the expected model (execution_id: Field"),
        (b'{"status":"s","execution_id":"e","endpoint":"a","response":"\\ud800"}', None),
    ],
)
def test_execute_answers_read_with_the_values_and_errors_they_had(
    api: respx.MockRouter,
    make_sync_client: Callable[..., ViksaSyncClient],
    content: bytes,
    shown: str | None,
) -> None:
    api.post("/pulse/executor/execute").respond(200, content=content)
    client = make_sync_client()
    if shown is None:  # a lone surrogate: pydantic's parser refuses it, json.loads reads it
        assert client.pulse.execute(REQUEST).response == "\ud800"
        return
    with pytest.raises(ViksaDecodeError) as info:
        client.pulse.execute(REQUEST)
    assert str(info.value).startswith(f"pulse POST /pulse/executor/execute: {shown}")
