"""What 0.2 code keeps working: ``WebhookClient``, the error helpers, old module paths,
old keyword names and the blocking ``close()`` / ``request_sync`` of ``ViksaClient``."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest
import respx

import viksa_ai.client
from viksa_ai.client import (
    AsyncViksaWebhook,
    ErrorDetail,
    ViksaApiError,
    ViksaClient,
    ViksaError,
    ViksaNotFoundError,
    ViksaRateLimitError,
    ViksaServerError,
    ViksaValidationError,
    WebhookClient,
    parse_error_details,
    raise_for_response,
)

# The mocked platform's URL (the `api` fixture's base); WebhookClient runs on httpx only.
BASE = "https://api.viksa.test"
WEBHOOK_TOKEN = "wh-secret-token"

# 0.2 module path -> the names 0.2 code imports from it.
OLD_MODULES: dict[str, tuple[str, ...]] = {
    "viksa_ai.client.errors": (
        "ErrorDetail",
        "ViksaError",
        "ViksaTransportError",
        "ViksaApiError",
        "ViksaAuthenticationError",
        "ViksaPermissionError",
        "ViksaNotFoundError",
        "ViksaConflictError",
        "ViksaValidationError",
        "ViksaRateLimitError",
        "ViksaServerError",
        "parse_error_details",
        "raise_for_response",
    ),
    "viksa_ai.client.config": ("ClientConfig", "RetryConfig"),
    "viksa_ai.client.base": ("ViksaClient",),
    "viksa_ai.client.webhook": ("WebhookClient",),
}


# -- WebhookClient ------------------------------------------------------------------


async def test_webhook_client_calls_the_webhook_routes(api: respx.MockRouter) -> None:
    invoke = api.post("/chat/webhook/trigger/trig%2F1").respond(200, json={"run": "r1"})
    stream = api.post("/chat/webhook/trigger/trig%2F1/stream").respond(
        200,
        content=b'data: {"e": 1}\n\ndata: {"e": 2}\n\ndata: [DONE]\n\n',
        headers={"content-type": "text/event-stream"},
    )
    health = api.get("/chat/webhook/trigger/trig%2F1/health").respond(200, json={"ok": True})
    async with WebhookClient("trig/1", base_url=BASE + "/", webhook_token=WEBHOOK_TOKEN) as wh:
        assert isinstance(wh, AsyncViksaWebhook)
        assert wh.trigger_id == "trig/1"
        assert wh.base_url == BASE
        assert await wh.invoke({"event": "order.created"}) == {"run": "r1"}
        assert [dict(event) async for event in wh.stream({"n": 1})] == [{"e": 1}, {"e": 2}]
        assert dict(await wh.health()) == {"ok": True}
    assert json.loads(invoke.calls.last.request.content) == {"event": "order.created"}
    assert json.loads(stream.calls.last.request.content) == {"n": 1}
    for route in (invoke, stream, health):
        assert route.calls.last.request.headers["authorization"] == f"Bearer {WEBHOOK_TOKEN}"


async def test_webhook_client_raises_typed_errors_without_the_token(
    api: respx.MockRouter,
) -> None:
    api.post("/chat/webhook/trigger/t").respond(404, json={"detail": "no such trigger"})
    async with WebhookClient("t", base_url=BASE, webhook_token=WEBHOOK_TOKEN) as wh:
        with pytest.raises(ViksaNotFoundError, match="no such trigger") as caught:
            await wh.invoke({})
        assert WEBHOOK_TOKEN not in repr(wh)
    assert WEBHOOK_TOKEN not in str(caught.value)
    assert caught.value.path == "/chat/webhook/trigger/t"


async def test_webhook_client_without_token_and_with_timeout(api: respx.MockRouter) -> None:
    route = api.get("/chat/webhook/trigger/t/health").respond(200, json={})
    wh = WebhookClient("t", base_url=BASE, timeout=7.5)
    try:
        assert wh._client.http_client.timeout == httpx.Timeout(7.5)
        await wh.health()
    finally:
        await wh.aclose()
    assert "authorization" not in route.calls.last.request.headers


def test_webhook_client_refuses_an_unusable_trigger_id() -> None:
    with pytest.raises(ValueError, match="not a valid id"):
        WebhookClient("..")


def test_webhook_client_is_exported_where_0_2_had_it() -> None:
    import viksa_ai

    assert viksa_ai.WebhookClient is WebhookClient
    assert "WebhookClient" in viksa_ai.client.__all__
    assert "WebhookClient" in viksa_ai.__all__


# -- error helpers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (None, []),
        ("gateway down", [ErrorDetail("gateway down")]),
        ({"detail": "Agent not found"}, [ErrorDetail("Agent not found")]),
        (
            {"detail": {"message": "taken", "code": "name_taken", "field": "name"}},
            [ErrorDetail("taken", field="name", code="name_taken")],
        ),
        (
            {"detail": [{"loc": ["body", "agent", "name"], "msg": "required", "type": "missing"}]},
            [ErrorDetail("required", field="agent.name", code="missing")],
        ),
        ({"message": "slow down"}, [ErrorDetail("slow down")]),
        ({"error": "bad key"}, [ErrorDetail("bad key")]),
        ({"unrelated": 1}, []),
    ],
)
def test_parse_error_details_reads_the_0_2_shapes(
    body: object, expected: list[ErrorDetail]
) -> None:
    assert parse_error_details(body) == expected


def _answer(status: int, **kwargs: object) -> httpx.Response:
    request = httpx.Request("POST", f"{BASE}/builder/agent")
    return httpx.Response(status, request=request, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [200, 201, 204, 302, 399])
def test_raise_for_response_passes_non_error_statuses(status: int) -> None:
    # Returning at all is the check: 0.2 raised only for 400 and above.
    raise_for_response(_answer(status), service="builder", method="POST", path="/x")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (404, ViksaNotFoundError),
        (422, ViksaValidationError),
        (429, ViksaRateLimitError),
        (503, ViksaServerError),
        (418, ViksaApiError),
    ],
)
def test_raise_for_response_raises_the_typed_error(status: int, error: type[ViksaApiError]) -> None:
    response = _answer(
        status,
        json={"detail": [{"loc": ["body", "name"], "msg": "field required", "type": "missing"}]},
        headers={"x-request-id": "req-9", "retry-after": "3"},
    )
    with pytest.raises(error) as caught:
        raise_for_response(response, service="builder", method="POST", path="/agent")
    raised = caught.value
    assert type(raised) is error
    assert (raised.status_code, raised.service, raised.method, raised.path) == (
        status,
        "builder",
        "POST",
        "/agent",
    )
    assert raised.details == [ErrorDetail("field required", field="name", code="missing")]
    assert raised.request_id == "req-9"
    assert raised.retry_after == 3.0
    assert raised.response is response


def test_raise_for_response_keeps_a_text_body() -> None:
    with pytest.raises(ViksaServerError, match="upstream exploded") as caught:
        raise_for_response(
            _answer(502, text="upstream exploded"), service="chat", method="GET", path="/c"
        )
    assert caught.value.body == "upstream exploded"


# -- 0.2 module paths ---------------------------------------------------------------


@pytest.mark.parametrize("module_name", sorted(OLD_MODULES))
def test_old_module_paths_re_export_the_same_objects(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in OLD_MODULES[module_name]:
        assert getattr(module, name) is getattr(viksa_ai.client, name), name
    assert set(OLD_MODULES[module_name]) <= set(module.__all__)


def test_old_module_paths_import_without_warnings_and_only_on_demand() -> None:
    # A fresh interpreter: this process has imported them already.
    code = (
        "import sys, viksa_ai.client\n"
        f"old = {sorted(OLD_MODULES)!r}\n"
        "assert not [m for m in old if m in sys.modules], 'imported by the package'\n"
        "import importlib\n"
        "for m in old: importlib.import_module(m)\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


# -- 0.2 keyword names and the blocking helpers of ViksaClient ----------------------


async def test_old_keyword_names_of_resource_methods(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    revision = api.get("/builder/agent/a1/revisions/3").respond(200, json={"revision": 3})
    get = api.get("/marketplace/api/v1/marketplace/workforce/w1").respond(200, json={"id": "w1"})
    install = api.post("/marketplace/api/v1/marketplace/workforce/w1/install").respond(
        200, json={"ok": True}
    )
    client = make_client()
    assert await client.builder.agents.revision("a1", revision_id=3) == {"revision": 3}
    assert await client.marketplace.workforce.get(listing_id="w1") == {"id": "w1"}
    assert dict(await client.marketplace.workforce.install(listing_id="w1", body={"x": 1})) == {
        "ok": True
    }
    assert revision.called
    assert get.called
    assert json.loads(install.calls.last.request.content) == {"x": 1}


def test_blocking_request_sync_and_close(api: respx.MockRouter) -> None:
    route = api.get("/builder/agent").respond(200, json=[{"id": "a"}])
    with ViksaClient(access_token="tok", base_url=BASE) as client:
        assert client.request_sync("get", "/builder", "/agent", params={"limit": 1}) == [
            {"id": "a"}
        ]
    assert route.calls.last.request.url.params["limit"] == "1"
    with pytest.raises(ViksaError, match="closed"):
        client.request_sync("GET", "/builder", "/agent")
    client.close()  # a second close is harmless
