"""``mcp_endpoint``, ``EndpointInfo`` and ``get_endpoint_info``, on both runtime copies."""

import functools
import inspect
import pickle
from collections.abc import Coroutine
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


async def test_plain_wrapper_of_a_sync_function_warns_and_stays_callable(rt: ModuleType) -> None:
    def search(payload: dict[str, Any]) -> str:
        return "found"

    @functools.wraps(search)
    def logged(payload: dict[str, Any]) -> str:
        return search(payload)

    with pytest.warns(rt.ViksaEndpointWarning, match=r"define 'search' with 'async def'"):
        assert rt.mcp_endpoint(description="Search")(logged) is logged
    assert rt.get_endpoint_info(logged) == rt.EndpointInfo("search", "Search")
    assert logged({}) == "found"


def test_wrapped_cycle_warns_not_crashes(rt: ModuleType) -> None:
    def search(payload: dict[str, Any]) -> None:
        return None

    search.__wrapped__ = search  # type: ignore[attr-defined]

    with pytest.warns(rt.ViksaEndpointWarning, match=r"define 'search' with 'async def'"):
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
async def test_non_string_description_warns_and_records_none(
    rt: ModuleType, description: object
) -> None:
    async def search(payload: dict[str, Any]) -> str:
        return "found"

    decorator = rt.mcp_endpoint(description=description)  # 0.2 accepted any value
    with pytest.warns(rt.ViksaEndpointWarning, match=r"must be a str, got \w+") as caught:
        assert decorator(search) is search

    assert "'search'" in str(caught[0].message)
    assert rt.get_endpoint_info(search) == rt.EndpointInfo("search", "")
    assert await search({}) == "found"


@pytest.mark.parametrize("description", ["", "   ", "\n\t "])
def test_blank_description_warns_and_is_recorded(rt: ModuleType, description: str) -> None:
    async def search(payload: dict[str, Any]) -> None:
        return None

    with pytest.warns(rt.ViksaEndpointWarning, match="'search' is blank: say what the endpoint"):
        rt.mcp_endpoint(description=description)(search)

    assert rt.get_endpoint_info(search) == rt.EndpointInfo("search", description)


def test_missing_description_is_still_a_type_error(rt: ModuleType) -> None:
    # 0.2 raised here too (a missing argument): nothing new fails.
    with pytest.raises(TypeError, match="description"):
        rt.mcp_endpoint()


async def test_bare_decorator_marks_the_function_and_says_to_add_parentheses(
    rt: ModuleType,
) -> None:
    async def search(payload: dict[str, Any]) -> str:
        return "found"

    with pytest.warns(rt.ViksaEndpointWarning, match=r"'search' is used without parentheses"):
        decorated = rt.mcp_endpoint(search)

    assert decorated is search
    assert rt.get_endpoint_info(search) == rt.EndpointInfo("search", "")
    assert await decorated({}) == "found"


def test_bare_decorator_on_a_sync_function_warns_twice(rt: ModuleType) -> None:
    def search(payload: dict[str, Any]) -> str:
        return "found"

    with pytest.warns(rt.ViksaEndpointWarning) as caught:
        assert rt.mcp_endpoint(search) is search

    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 2
    assert "without parentheses" in messages[0]
    assert "define 'search' with 'async def'" in messages[1]
    assert search({}) == "found"


def test_an_async_generator_is_told_to_return_not_to_use_async_def(rt: ModuleType) -> None:
    # It is an `async def` already: the fix is to return the result, not to yield it.
    async def stream(payload: dict[str, Any]) -> Any:
        yield payload

    with pytest.warns(rt.ViksaEndpointWarning) as caught:
        assert rt.mcp_endpoint(description="Stream")(stream) is stream
    (warning,) = caught
    message = str(warning.message)
    assert "return its result instead of yielding it" in message
    assert "with 'async def'" not in message


def test_sync_function_warns_naming_it_and_keeps_working(rt: ModuleType) -> None:
    def search(payload: dict[str, Any]) -> str:
        return "found"

    with pytest.warns(
        rt.ViksaEndpointWarning, match=r"cannot await this one: define 'search' with 'async def'"
    ):
        assert rt.mcp_endpoint(description="Search")(search) is search
    assert rt.get_endpoint_info(search) == rt.EndpointInfo("search", "Search")
    assert search({}) == "found"


@pytest.mark.parametrize(
    ("description", "target"),
    [
        pytest.param("Search", "sync", id="from-the-function-check"),
        pytest.param(" ", "async", id="from-the-decorator"),
        pytest.param(None, "bare", id="from-mcp_endpoint"),
    ],
)
def test_warning_points_at_the_decorated_line(
    rt: ModuleType, description: str | None, target: str
) -> None:
    def search(payload: dict[str, Any]) -> None:
        return None

    async def ping(payload: dict[str, Any]) -> None:
        return None

    function = search if target == "sync" else ping
    decorator = rt.mcp_endpoint if target == "bare" else rt.mcp_endpoint(description=description)
    with pytest.warns(rt.ViksaEndpointWarning) as caught:
        decorator(function)

    assert [warning.filename for warning in caught] == [__file__]


@pytest.mark.parametrize("target", [42, "a string", functools.partial(print, "x")])
def test_unnamed_target_warns_and_is_returned_unmarked(rt: ModuleType, target: object) -> None:
    with pytest.warns(rt.ViksaEndpointWarning, match=r"decorates a named 'async def' function"):
        assert rt.mcp_endpoint(description="Nothing")(target) is target
    assert rt.get_endpoint_info(target) is None


def test_bound_method_warns_that_it_cannot_be_marked(rt: ModuleType) -> None:
    class Agent:
        async def search(self, payload: dict[str, Any]) -> None:
            return None

    method = Agent().search
    with pytest.warns(rt.ViksaEndpointWarning, match="cannot record its metadata on 'search'"):
        assert rt.mcp_endpoint(description="Search")(method) is method


def test_immutable_type_warns_instead_of_failing(rt: ModuleType) -> None:
    # setattr on a built-in type raises TypeError, not AttributeError; 0.2 returned it.
    with pytest.warns(rt.ViksaEndpointWarning) as caught:
        assert rt.mcp_endpoint(description="Numbers")(int) is int

    messages = [str(warning.message) for warning in caught]
    assert "define 'int' with 'async def'" in messages[0]
    assert "cannot record its metadata on 'int'" in messages[1]
    assert rt.get_endpoint_info(int) is None


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
