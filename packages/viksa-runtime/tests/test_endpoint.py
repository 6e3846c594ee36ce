"""``mcp_endpoint``, ``EndpointInfo`` and ``get_endpoint_info``, on both runtime copies."""

import functools
import inspect
import pickle
from collections.abc import AsyncIterator, Coroutine
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


async def test_returns_the_function_itself_still_awaitable(rt: ModuleType) -> None:
    async def get_flights(payload: dict[str, Any], *, limit: int = 10) -> dict[str, Any]:
        return {"source": payload.get("source"), "limit": limit}

    signature = inspect.signature(get_flights)
    decorated = rt.mcp_endpoint(description="Get flights")(get_flights)

    assert decorated is get_flights
    assert inspect.iscoroutinefunction(decorated)
    assert decorated.__name__ == "get_flights"
    assert inspect.signature(decorated) == signature
    assert await decorated({"source": "JFK"}, limit=3) == {"source": "JFK", "limit": 3}


def test_records_name_and_description(rt: ModuleType) -> None:
    async def search(payload: dict[str, Any]) -> None:
        return None

    rt.mcp_endpoint(description="Search the catalogue")(search)

    info = search.__viksa_endpoint__  # type: ignore[attr-defined]
    assert isinstance(info, rt.EndpointInfo)
    assert (info.name, info.description) == ("search", "Search the catalogue")
    assert rt.get_endpoint_info(search) is info


def test_description_may_be_positional(rt: ModuleType) -> None:
    async def ping(payload: dict[str, Any]) -> str:
        return "pong"

    rt.mcp_endpoint("Answer pong")(ping)

    assert rt.get_endpoint_info(ping) == rt.EndpointInfo("ping", "Answer pong")


def test_decorating_again_replaces_the_metadata(rt: ModuleType) -> None:
    async def ping(payload: dict[str, Any]) -> str:
        return "pong"

    rt.mcp_endpoint(description="Inner")(ping)
    rt.mcp_endpoint(description="Outer")(ping)

    assert rt.get_endpoint_info(ping).description == "Outer"


async def test_accepts_an_async_function_wrapped_by_another_decorator(rt: ModuleType) -> None:
    async def search(payload: dict[str, Any]) -> str:
        return "found"

    @functools.wraps(search)
    async def logged(payload: dict[str, Any]) -> str:
        return await search(payload)

    assert rt.mcp_endpoint(description="Search")(logged) is logged
    assert rt.get_endpoint_info(logged).name == "search"
    assert await logged({}) == "found"


async def test_accepts_a_plain_wrapper_of_an_async_function(rt: ModuleType) -> None:
    # A common logging decorator: a plain def returning the coroutine, which is awaited.
    async def search(payload: dict[str, Any]) -> str:
        return f"found {payload['q']}"

    @functools.wraps(search)
    def logged(payload: dict[str, Any]) -> Coroutine[Any, Any, str]:
        return search(payload)

    assert rt.mcp_endpoint(description="Search")(logged) is logged
    assert rt.get_endpoint_info(logged) == rt.EndpointInfo("search", "Search")
    assert await logged({"q": "JFK"}) == "found JFK"


def test_plain_wrapper_of_a_sync_function_is_a_type_error(rt: ModuleType) -> None:
    def search(payload: dict[str, Any]) -> str:
        return "found"

    @functools.wraps(search)
    def logged(payload: dict[str, Any]) -> str:
        return search(payload)

    with pytest.raises(TypeError, match=r"define 'search' with 'async def'"):
        rt.mcp_endpoint(description="Search")(logged)
    assert rt.get_endpoint_info(logged) is None


def test_wrapped_cycle_is_a_type_error_not_a_crash(rt: ModuleType) -> None:
    def search(payload: dict[str, Any]) -> None:
        return None

    search.__wrapped__ = search  # type: ignore[attr-defined]

    with pytest.raises(TypeError, match=r"define 'search' with 'async def'"):
        rt.mcp_endpoint(description="Search")(search)


def test_get_endpoint_info_is_none_for_undecorated_objects(rt: ModuleType) -> None:
    async def plain(payload: dict[str, Any]) -> None:
        return None

    async def impostor(payload: dict[str, Any]) -> None:
        return None

    impostor.__viksa_endpoint__ = {"name": "impostor"}  # type: ignore[attr-defined]

    assert rt.get_endpoint_info(plain) is None
    assert rt.get_endpoint_info(impostor) is None
    assert rt.get_endpoint_info(42) is None
    assert rt.get_endpoint_info(None) is None


@pytest.mark.parametrize("description", [None, 42, b"bytes", ["a list"], {"text": "a dict"}])
def test_non_string_description_is_a_type_error(rt: ModuleType, description: object) -> None:
    with pytest.raises(TypeError, match=r"description must be a str, got \w+"):
        rt.mcp_endpoint(description=description)


@pytest.mark.parametrize("description", ["", "   ", "\n\t "])
def test_blank_description_is_a_type_error(rt: ModuleType, description: str) -> None:
    with pytest.raises(TypeError, match="description is empty: say what the endpoint does"):
        rt.mcp_endpoint(description=description)


def test_missing_description_is_a_type_error(rt: ModuleType) -> None:
    with pytest.raises(TypeError, match="description"):
        rt.mcp_endpoint()


def test_bare_decorator_says_to_add_parentheses(rt: ModuleType) -> None:
    async def search(payload: dict[str, Any]) -> None:
        return None

    with pytest.raises(TypeError, match=r"needs parentheses and a description"):
        rt.mcp_endpoint(search)
    assert rt.get_endpoint_info(search) is None


def test_sync_function_is_a_type_error_naming_it(rt: ModuleType) -> None:
    def search(payload: dict[str, Any]) -> None:
        return None

    with pytest.raises(TypeError, match=r"define 'search' with 'async def'"):
        rt.mcp_endpoint(description="Search")(search)
    assert not hasattr(search, "__viksa_endpoint__")


def test_async_generator_is_a_type_error(rt: ModuleType) -> None:
    async def stream(payload: dict[str, Any]) -> AsyncIterator[int]:
        yield 1

    with pytest.raises(TypeError, match=r"define 'stream' with 'async def'"):
        rt.mcp_endpoint(description="Stream")(stream)


@pytest.mark.parametrize("target", [42, "a string", functools.partial(print, "x")])
def test_unnamed_target_is_a_type_error(rt: ModuleType, target: object) -> None:
    with pytest.raises(TypeError, match=r"decorates a named 'async def' function, got \w+"):
        rt.mcp_endpoint(description="Nothing")(target)


def test_bound_method_is_a_type_error(rt: ModuleType) -> None:
    class Agent:
        async def search(self, payload: dict[str, Any]) -> None:
            return None

    with pytest.raises(TypeError, match="cannot record its metadata on 'search'"):
        rt.mcp_endpoint(description="Search")(Agent().search)


def test_endpoint_info_is_immutable_and_slotted(rt: ModuleType) -> None:
    info = rt.EndpointInfo("search", "Search")

    with pytest.raises(AttributeError, match="immutable"):
        info.name = "other"
    with pytest.raises(AttributeError, match="immutable"):
        del info.description
    assert not hasattr(info, "__dict__")
    assert (info.name, info.description) == ("search", "Search")


def test_endpoint_info_value_semantics(rt: ModuleType) -> None:
    info = rt.EndpointInfo("search", "Search")

    assert info == rt.EndpointInfo("search", "Search")
    assert info != rt.EndpointInfo("search", "Other")
    assert info != ("search", "Search")
    assert hash(info) == hash(rt.EndpointInfo("search", "Search"))
    assert repr(info) == "EndpointInfo(name='search', description='Search')"
    assert pickle.loads(pickle.dumps(info)) == info


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50)
@given(description=st.text(min_size=1).filter(str.strip))
def test_any_non_blank_description_is_recorded_verbatim(rt: ModuleType, description: str) -> None:
    async def handler(payload: dict[str, Any]) -> None:
        return None

    rt.mcp_endpoint(description=description)(handler)

    assert rt.get_endpoint_info(handler) == rt.EndpointInfo("handler", description)
