"""Per-call envelopes under concurrency, and one state shared by every runtime copy."""

import asyncio
import sys
import threading
from contextvars import ContextVar
from types import CodeType, ModuleType
from typing import Any

import pytest

import viksa_ai.runtime
from viksa_ai.runtime._viksa import _SHARED_STATE_KEY

TASKS = 200
THREADS = 16


async def test_concurrent_tasks_never_see_each_others_envelope(rt: ModuleType) -> None:
    async def call(index: int) -> list[dict[str, Any]]:
        _, envelope = rt._split_envelope(
            rt.attach_envelope({"i": index}, {"run_id": f"run-{index}", "metadata": {"i": index}})
        )
        seen = []
        with rt._use_envelope(envelope):
            for _ in range(3):
                await asyncio.sleep(0)  # let every other call run in between
                seen.append(rt.context())
        return seen

    results = await asyncio.gather(*(call(index) for index in range(TASKS)))

    for index, seen in enumerate(results):
        assert seen == [{"run_id": f"run-{index}", "metadata": {"i": index}}] * 3
    assert rt.context() == {}


async def test_a_task_setting_an_envelope_does_not_leak_to_its_caller(rt: ModuleType) -> None:
    async def call() -> dict[str, Any]:
        rt._set_envelope({"run_id": "inside"})  # no reset: the task's context ends with it
        await asyncio.sleep(0)
        return dict(rt.context())

    assert await asyncio.create_task(call()) == {"run_id": "inside"}
    assert rt.context() == {}


async def test_tasks_started_within_a_call_inherit_its_envelope(rt: ModuleType) -> None:
    async def child() -> dict[str, Any]:
        await asyncio.sleep(0)
        return dict(rt.context())

    with rt._use_envelope({"run_id": "parent"}):
        task = asyncio.create_task(child())
    assert await task == {"run_id": "parent"}


def test_concurrent_threads_never_see_each_others_envelope(rt: ModuleType) -> None:
    barrier = threading.Barrier(THREADS, timeout=30)
    results: dict[int, list[dict[str, Any]]] = {}
    errors: list[BaseException] = []

    def call(index: int) -> None:
        try:
            with rt._use_envelope({"run_id": f"run-{index}"}):
                barrier.wait()  # every thread holds its envelope at the same time
                first = rt.context()
                barrier.wait()
                results[index] = [first, rt.context()]
            results[index].append(rt.context())
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=call, args=(index,)) for index in range(THREADS)]
    with rt._use_envelope({"run_id": "main"}):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert rt.context() == {"run_id": "main"}

    assert not errors
    assert all(not thread.is_alive() for thread in threads)
    # New threads start with an empty context, except where Python makes them inherit
    # the starting thread's (free-threaded builds since 3.14).
    outside = {"run_id": "main"} if getattr(sys.flags, "thread_inherit_context", 0) else {}
    for index in range(THREADS):
        assert results[index] == [{"run_id": f"run-{index}"}] * 2 + [outside]


# --- several copies in one process -----------------------------------------------------


def test_copies_share_the_envelope_both_ways(second_copy: ModuleType) -> None:
    package = viksa_ai.runtime

    with package._use_envelope({"run_id": "from-package"}):
        assert second_copy.context() == {"run_id": "from-package"}
    with second_copy._use_envelope({"run_id": "from-copy"}):
        assert package.context() == {"run_id": "from-copy"}
    token = package._set_envelope({"run_id": "r"})
    second_copy._reset_envelope(token)
    assert package.context() == second_copy.context() == {}


async def test_copies_share_per_task_envelopes(second_copy: ModuleType) -> None:
    package = viksa_ai.runtime

    async def call(index: int) -> tuple[dict[str, Any], dict[str, Any]]:
        setter, reader = (package, second_copy) if index % 2 else (second_copy, package)
        with setter._use_envelope({"run_id": f"run-{index}"}):
            await asyncio.sleep(0)
            return dict(reader.context()), dict(setter.context())

    results = await asyncio.gather(*(call(index) for index in range(TASKS)))

    assert results == [({"run_id": f"run-{i}"},) * 2 for i in range(TASKS)]


def test_copies_share_the_error_class(
    second_copy: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("bearer_token.api_key", raising=False)

    assert second_copy.ViksaAuthError is viksa_ai.runtime.ViksaAuthError
    with pytest.raises(viksa_ai.runtime.ViksaAuthError):
        second_copy.ViksaAuth.require_param("bearer_token", "api_key")
    caught: list[BaseException] = []
    try:
        viksa_ai.runtime.ViksaAuth.require_method("bearer_token")
    except second_copy.ViksaAuthError as error:  # the `except` clause is what is tested
        caught.append(error)
    assert [type(error) for error in caught] == [viksa_ai.runtime.ViksaAuthError]


def test_copies_share_endpoint_metadata(second_copy: ModuleType) -> None:
    async def search(payload: dict[str, Any]) -> None:
        return None

    second_copy.mcp_endpoint(description="Search")(search)

    assert second_copy.EndpointInfo is viksa_ai.runtime.EndpointInfo
    assert viksa_ai.runtime.get_endpoint_info(search) == viksa_ai.runtime.EndpointInfo(
        "search", "Search"
    )


def test_copies_share_the_endpoint_warning_class(second_copy: ModuleType) -> None:
    def search(payload: dict[str, Any]) -> None:
        return None

    # A filter or pytest.warns on the package's class sees the injected copy's warnings.
    assert second_copy.ViksaEndpointWarning is viksa_ai.runtime.ViksaEndpointWarning
    with pytest.warns(viksa_ai.runtime.ViksaEndpointWarning, match="'async def'"):
        second_copy.mcp_endpoint(description="Search")(search)


def test_a_copy_of_another_version_extends_the_state_it_finds(
    monkeypatch: pytest.MonkeyPatch, runtime_code: CodeType
) -> None:
    # A worker's viksa-runtime and the agent's injected ViksaAI.py may come from
    # different releases. State made by a copy that shares less (here: before tracing)
    # failed the import of the next copy with AttributeError; bumping the key instead
    # would split the envelope silently.
    class OlderAuthError(RuntimeError):
        pass

    envelope: ContextVar[dict[str, Any] | None] = ContextVar("older_envelope", default=None)
    older = ModuleType(_SHARED_STATE_KEY)
    vars(older).update(
        envelope=envelope,
        ViksaAuthError=OlderAuthError,
        ViksaEndpointWarning=viksa_ai.runtime.ViksaEndpointWarning,
        EndpointInfo=viksa_ai.runtime.EndpointInfo,
    )
    monkeypatch.setitem(sys.modules, _SHARED_STATE_KEY, older)
    newer = ModuleType("ViksaAI")
    monkeypatch.setitem(sys.modules, "ViksaAI", newer)

    exec(runtime_code, vars(newer))

    token = envelope.set({"run_id": "set-by-the-older-copy"})
    try:
        assert newer.context() == {"run_id": "set-by-the-older-copy"}
        assert newer.trace_context() == {}
    finally:
        envelope.reset(token)
    assert newer.ViksaAuthError is OlderAuthError
    assert vars(older)["envelope"] is envelope
    assert {"trace", "trace_provider"} <= set(vars(older))
