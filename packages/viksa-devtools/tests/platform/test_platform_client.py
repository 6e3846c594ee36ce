"""The SDK client against the platform in-process, and routes the client calls vs OpenAPI."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from viksa_ai.client import ViksaClient, ViksaNotFoundError, ViksaSyncClient, ViksaValidationError
from viksa_ai.devtools.platform import create_app
from viksa_ai.models.executor import AgentType, EndpointExecutionRequest

Manifest = dict[str, Any]
# Closing, the generic escape hatch, and sync twins send no request of their own.
_NOT_CALLS = frozenset({"aclose", "close", "request"})
_RESOURCES = ("auth", "builder", "chat", "pulse", "workflow", "scheduler", "marketplace")


async def test_the_async_client_fixture_talks_to_the_platform(
    viksa_client: ViksaClient, manifest: Callable[..., Manifest]
) -> None:
    me = await viksa_client.auth.me()
    assert me.email == "dev@viksa.local"
    agent = await viksa_client.builder.agents.create(manifest("sdk"))
    await viksa_client.builder.deploy.build(agent["id"])
    await viksa_client.builder.deploy.deploy(agent["id"])
    result = await viksa_client.pulse.execute(
        EndpointExecutionRequest(
            agent_id=agent["id"],
            agent_type=AgentType.CLOUD,
            endpoint="sdk.main.echo",
            inputs={"text": "from the sdk"},
        )
    )
    assert isinstance(result.response, dict)
    assert (result.status, result.response["text"]) == ("completed", "from the sdk")
    guarded = await viksa_client.pulse.execute(
        {
            "agent_id": agent["id"],
            "agent_type": "cloud",
            "endpoint": "sdk.main.guarded",
            "inputs": {"text": "later"},
        }
    )
    # Not held until someone decides: the SDK gets the pending execution back.
    assert (guarded.status, guarded.response) == ("awaiting_approval", None)
    assert guarded.model_extra is not None
    assert guarded.model_extra["approval_id"].startswith("apr_")
    aliases = [a["agent_alias"] async for a in viksa_client.builder.agents.iter_all(limit=1)]
    assert aliases == ["sdk"]
    with pytest.raises(ViksaNotFoundError) as missing:
        await viksa_client.builder.agents.get("agt_missing")
    assert missing.value.request_id
    with pytest.raises(ViksaValidationError):
        await viksa_client.builder.agents.create({**manifest("x"), "files": []})


def test_the_sync_client_fixture_talks_to_the_platform(
    viksa_sync_client: ViksaSyncClient, manifest: Callable[..., Manifest]
) -> None:
    assert viksa_sync_client.auth.me().email == "dev@viksa.local"
    viksa_sync_client.builder.agents.create(manifest("sync"))
    page = viksa_sync_client.builder.agents.list(limit=10)
    assert [a["agent_alias"] for a in page["agents"]] == ["sync"]


def _argument(parameter: inspect.Parameter) -> Any:
    """A placeholder value good enough for a client method to send its request."""
    hint = str(parameter.annotation)
    if "EndpointExecutionRequest" in hint or "AgentInvokeRequest" in hint:
        return {"agent_id": "agt_1", "agent_type": "cloud", "endpoint": "a.main.f"}
    if any(word in hint for word in ("Mapping", "dict", "Request")):
        return {}
    if "int" in hint:
        return 1
    if "bool" in hint:
        return True
    return "x1"


def _methods(root: Any, depth: int = 0) -> list[tuple[str, Callable[..., Any]]]:
    """Every public call method of a resource tree (sync twins and iterators excepted)."""
    found: list[tuple[str, Callable[..., Any]]] = []
    for name in dir(root):
        if name.startswith("_"):
            continue
        value = getattr(root, name)
        if inspect.ismethod(value) and not name.endswith("_sync") and name not in _NOT_CALLS:
            found.append((name, value))
        elif depth < 2 and type(value).__module__.startswith("viksa_ai.client._async.resources"):
            found += [(f"{name}.{sub}", method) for sub, method in _methods(value, depth + 1)]
    return found


async def _call(method: Callable[..., Any]) -> None:
    signature = inspect.signature(method)
    required = [p for p in signature.parameters.values() if p.default is inspect.Parameter.empty]
    args = [
        _argument(p) for p in required if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    kwargs = {p.name: _argument(p) for p in required if p.kind is p.KEYWORD_ONLY}
    try:
        result = method(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        if hasattr(result, "__aiter__"):
            async for _ in result:
                break
    except Exception:
        return


def _openapi_routes() -> list[tuple[str, re.Pattern[str]]]:
    app = create_app()
    try:
        paths = app.openapi()["paths"]
    finally:
        app.state.platform.close()
    return [
        (method.upper(), re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"))
        for path, operations in paths.items()
        for method in operations
    ]


async def test_every_route_the_client_calls_exists_in_the_openapi_document() -> None:
    sent: list[tuple[str, str, str]] = []
    calling = [""]  # the client method being called, for the recorder below

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((calling[0], request.method, request.url.path))
        if request.url.path.endswith(("/stream", "/test")):
            return httpx.Response(
                200, text="data: [DONE]\n\n", headers={"content-type": "text/event-stream"}
            )
        return httpx.Response(200, json={})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    routes = _openapi_routes()
    async with ViksaClient(
        api_key="vk_test", org_id="o", project_id="p", base_url="http://127.0.0.1", http_client=http
    ) as client:
        methods = [m for resource in _RESOURCES for m in _methods(getattr(client, resource), 1)]
        webhook = ViksaClient.webhook(
            "trg_1", webhook_token="t", base_url="http://127.0.0.1", http_client=http
        )
        methods += [(f"webhook.{n}", m) for n, m in _methods(webhook, 2)]
        for name, method in methods:
            calling[0] = name
            await _call(method)
    async with ViksaClient(
        access_token="a.b.c", refresh_token="r", base_url="http://127.0.0.1", http_client=http
    ) as client:
        calling[0] = "refresh"
        await _call(client.auth.refresh)
    called = {name for name, _, _ in sent}
    silent = sorted({name for name, _ in methods} - called)
    missing = sorted(
        {
            (name, verb, path)
            for name, verb, path in sent
            if not any(verb == route_verb and pattern.match(path) for route_verb, pattern in routes)
        }
    )
    assert len(called) > 100
    assert missing == [], f"client calls without a platform route: {missing}"
    assert silent == [], f"client methods that sent no request: {silent}"
