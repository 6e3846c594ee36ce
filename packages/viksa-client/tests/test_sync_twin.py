"""The sync twin: generated from the async source, the same operations and parameters."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import respx

from viksa_ai.client import ViksaClient, ViksaConfigError, ViksaError, ViksaSyncClient
from viksa_ai.client._twin import blocking_twin
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


@pytest.mark.parametrize(("argv", "code"), [(["--help"], 0), (["--chek"], 2)])
def test_generator_reads_its_options_before_writing_anything(
    argv: list[str], code: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    generator = _load_generator()

    def must_not_run() -> None:
        raise AssertionError("--help or a misspelt option must not generate files")

    monkeypatch.setattr(generator, "generate", must_not_run)
    with pytest.raises(SystemExit) as stopped:
        generator.main(argv)
    assert stopped.value.code == code
    printed = capsys.readouterr()
    assert "usage: " in printed.out + printed.err


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
    # The async client keeps 0.2's blocking close() and request_sync() for its _sync methods.
    assert not inspect.iscoroutinefunction(ViksaClient.close)
    assert _params(ViksaClient.request_sync) == _params(ViksaClient.request)
    assert not hasattr(ViksaSyncClient, "request_sync")


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


async def test_blocking_helpers_refuse_to_bypass_the_callers_http_client(
    api: respx.MockRouter,
) -> None:
    me = api.get("/auth/me").respond(200, json={"id": "u", "email": "e@x", "account_id": "a"})
    # A caller's client may hold a proxy, mTLS or a custom transport: a blocking call made
    # on a fresh httpx.Client would silently go around it.
    async with httpx.AsyncClient() as http:
        client = ViksaClient("tok", base_url="https://api.viksa.test", http_client=http)
        with pytest.raises(ViksaConfigError, match="await the async operation"):
            client.auth.me_sync()
        with pytest.raises(ViksaConfigError, match="http_client"):
            ViksaClient.from_api_key("vk_1", validate=True, http_client=http)
        await client.aclose()
        assert not http.is_closed
    assert me.call_count == 0


async def test_a_closed_client_makes_no_new_blocking_twin(api: respx.MockRouter) -> None:
    me = api.get("/auth/me").respond(200, json={"id": "u", "email": "e@x", "account_id": "a"})
    client = ViksaClient("tok", base_url="https://api.viksa.test")
    await client.aclose()
    with pytest.raises(ViksaError, match="closed"):
        client.auth.me_sync()
    assert client._twin is None
    assert me.call_count == 0


def test_threads_share_one_blocking_twin(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.get("/auth/me").respond(200, json={"id": "u", "email": "e@x", "account_id": "a"})
    made: list[ViksaSyncClient] = []
    build = ViksaSyncClient._from_settings

    def counting(settings: Any, http_client: httpx.Client | None = None) -> ViksaSyncClient:
        twin = build(settings, http_client)
        made.append(twin)
        return twin

    monkeypatch.setattr(ViksaSyncClient, "_from_settings", counting)
    client = ViksaClient("tok", base_url="https://api.viksa.test")
    start = threading.Barrier(8)

    def call() -> None:
        start.wait(timeout=10)
        client.auth.me_sync()

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        assert len(made) == 1  # no twin left behind unclosed
        assert blocking_twin(client) is made[0]
    finally:
        asyncio.run(client.aclose())
    assert made[0]._http.is_closed


class _SpyLock:
    """A lock that tells when a second thread has to wait for it."""

    def __init__(self, contended: threading.Event) -> None:
        self._lock = threading.Lock()
        self._contended = contended

    def __enter__(self) -> None:
        if not self._lock.acquire(blocking=False):
            self._contended.set()
            self._lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


def test_a_close_while_a_twin_is_being_made_closes_that_twin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    making, go = threading.Event(), threading.Event()
    # Set when the close either waits for the twin being made or finished without it.
    close_progressed = threading.Event()
    made: list[ViksaSyncClient] = []
    build = ViksaSyncClient._from_settings

    def slow_build(settings: Any, http_client: httpx.Client | None = None) -> ViksaSyncClient:
        making.set()
        assert go.wait(timeout=10)
        twin = build(settings, http_client)
        made.append(twin)
        return twin

    monkeypatch.setattr(ViksaSyncClient, "_from_settings", slow_build)
    monkeypatch.setattr("viksa_ai.client._twin._making", _SpyLock(close_progressed))
    client = ViksaClient("tok", base_url="https://api.viksa.test")

    def close() -> None:
        asyncio.run(client.aclose())
        close_progressed.set()

    maker = threading.Thread(target=blocking_twin, args=(client,))
    closer = threading.Thread(target=close)
    maker.start()
    assert making.wait(timeout=10)  # the maker passed the closed check and builds the twin
    closer.start()
    assert close_progressed.wait(timeout=10)
    go.set()
    maker.join(timeout=10)
    closer.join(timeout=10)
    assert len(made) == 1
    assert made[0]._http.is_closed  # the close waited for the twin, then closed it
    assert client._twin is None
