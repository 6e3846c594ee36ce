"""The sync twin: generated from the async source, the same operations and parameters."""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import respx

from viksa_ai.client import ViksaClient, ViksaSyncClient
from viksa_ai.models.auth import KeyValidationResponse, TokenResponse, UserResponse
from viksa_ai.models.executor import AgentType, EndpointExecutionRequest, EndpointExecutionResponse

ROOT = Path(__file__).resolve().parents[3]


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("viksa_unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sync_files_are_exactly_what_the_generator_makes() -> None:
    generator = _load_generator()
    outputs: dict[Path, str] = generator.generate()
    assert outputs, "the generator found no async source"
    on_disk = set((generator.TARGET).rglob("*.py"))
    assert on_disk == set(outputs), "stale or missing files in _sync: run scripts/unasync.py"
    for path, text in outputs.items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is out of date: run `uv run python scripts/unasync.py`"
        )


def test_generator_rewrites_async_code() -> None:
    generator = _load_generator()
    source = (
        "async def f(c: httpx.AsyncClient) -> AsyncIterator[int]:\n"
        '    """Use ``async with`` then ``aclose()``."""\n'
        "    async with c:\n"
        "        async for x in await g():\n"
        "            yield x\n"
        "    # unasync: begin async-only\n"
        "    only_async()\n"
        "    # unasync: end\n"
        "    await c.aclose()\n"
    )
    assert generator.unasync_source(source) == (
        "def f(c: httpx.Client) -> Iterator[int]:\n"
        '    """Use ``with`` then ``close()``."""\n'
        "    with c:\n"
        "        for x in g():\n"
        "            yield x\n"
        "    c.close()\n"
    )


def _params(method: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(method).parameters.values()]


def test_every_async_operation_has_a_sync_twin_with_the_same_parameters(
    operations: Callable[[object], dict[str, Any]],
) -> None:
    async_ops = operations(ViksaClient("t"))
    sync_client = ViksaSyncClient("t")
    try:
        sync_ops = operations(sync_client)
    finally:
        sync_client.close()
    blocking = {name for name in async_ops if name.endswith("_sync")}
    assert blocking == {
        "auth.login_sync",
        "auth.refresh_sync",
        "auth.me_sync",
        "auth.validate_api_key_sync",
        "pulse.execute_sync",
    }
    assert set(sync_ops) == set(async_ops) - blocking
    for name, method in sync_ops.items():
        assert _params(method) == _params(async_ops[name]), name
        assert not inspect.iscoroutinefunction(method), name
    for name in blocking:
        # The README's blocking variants take the parameters of the operation they mirror.
        assert _params(async_ops[name]) == _params(async_ops[name.removesuffix("_sync")])


def test_client_level_api_matches() -> None:
    for name in ("__init__", "from_api_key", "from_login", "from_env", "webhook", "request"):
        assert _params(getattr(ViksaSyncClient, name)) == _params(getattr(ViksaClient, name)), name
    assert inspect.iscoroutinefunction(ViksaClient.from_login)
    assert not inspect.iscoroutinefunction(ViksaSyncClient.from_login)
    assert hasattr(ViksaClient, "from_login_sync")
    assert not hasattr(ViksaSyncClient, "from_login_sync")
    assert hasattr(ViksaClient, "aclose")
    assert not hasattr(ViksaSyncClient, "aclose")
    assert hasattr(ViksaSyncClient, "close")
    assert not hasattr(ViksaClient, "close")


async def test_readme_blocking_variants_share_the_client_state(
    api: respx.MockRouter, tokens: Callable[..., dict[str, Any]]
) -> None:
    api.post("/auth/individual/login").respond(200, json=tokens())
    api.post("/auth/refresh").respond(200, json=tokens(access="tok-access-3"))
    me = api.get("/auth/me").respond(200, json={"id": "u", "email": "e@x", "account_id": "a"})
    api.post("/auth/key/validate/api").respond(200, json={"valid": True})
    api.post("/pulse/executor/execute").respond(
        200, json={"status": "ok", "execution_id": "e", "endpoint": "a.main.f"}
    )
    async with ViksaClient(base_url="https://api.viksa.test") as client:
        assert isinstance(client.auth.login_sync("e@x", "pw"), TokenResponse)
        assert isinstance(client.auth.me_sync(), UserResponse)
        assert isinstance(client.auth.refresh_sync(), TokenResponse)
        assert isinstance(client.auth.validate_api_key_sync("vk_1"), KeyValidationResponse)
        request = EndpointExecutionRequest(
            agent_id="a", agent_type=AgentType.CLOUD, endpoint="a.main.f"
        )
        assert isinstance(client.pulse.execute_sync(request), EndpointExecutionResponse)
        await client.auth.me()  # the async path uses the token the blocking refresh got
    assert [c.request.headers["authorization"] for c in me.calls] == [
        "Bearer tok-access-2",
        "Bearer tok-access-3",
    ]
