"""PlatformRouter answers "no match" early only where matching each route would have."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Host, Match, Route

from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform.http._router import PlatformRouter, literal_prefix

_SEGMENTS = st.sampled_from(["a", "ab", "b", "chat", "trigger", "{}", ""])


def _path(parts: list[str]) -> str:
    # Each parameter its own name: Starlette refuses a path naming one twice.
    return "/" + "/".join(f"{{p{i}}}" if part == "{}" else part for i, part in enumerate(parts))


_PATHS = st.lists(_SEGMENTS, min_size=1, max_size=4).map(_path)


async def _nothing(*_: Any) -> None:
    return None


def _scope(path: str) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "root_path": ""}


@given(templates=st.lists(_PATHS, min_size=1, max_size=6), request_path=_PATHS)
def test_a_path_any_route_matches_starts_with_the_literal_prefix(
    templates: list[str], request_path: str
) -> None:
    routes: list[BaseRoute] = [Route(template, _nothing) for template in templates]
    path = re.sub(r"\{p\d\}", "7", request_path)
    if any(route.matches(_scope(path))[0] is not Match.NONE for route in routes):
        assert path.startswith(literal_prefix(routes))


def test_the_literal_prefix_stops_at_the_first_parameter_and_is_shared() -> None:
    routes: list[BaseRoute] = [
        Route("/chat/trigger/{trigger_id}", _nothing),
        Route("/chat/trigger/list", _nothing),
    ]
    assert literal_prefix(routes) == "/chat/trigger/"
    routes.append(Route("/chat/approvals", _nothing))
    assert literal_prefix(routes) == "/chat/"


def test_routes_that_could_match_anything_leave_no_prefix() -> None:
    assert literal_prefix([]) == ""
    assert literal_prefix([Route("/a", _nothing), Host("example.test", _nothing)]) == ""


def test_a_route_added_later_widens_the_prefix() -> None:
    router = PlatformRouter()
    router.add_api_route("/one/x", _nothing)
    assert router._literal_prefix() == "/one/x"
    router.add_api_route("/{anything}", _nothing)
    assert router._literal_prefix() == "/"


def _requests(app_paths: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for template, operations in app_paths.items():
        path = re.sub(r"\{[^}]+\}", "x1", template)
        for method in operations:
            yield method.upper(), path
        yield "PATCH", path  # no route takes PATCH: 405 where the path matches
    yield "GET", "/no/such/route"
    yield "GET", "/pulse/executor/nothing"
    yield "GET", "/builder/agent/list/"  # a trailing slash FastAPI redirects


async def _answers(platform: LocalPlatform) -> list[tuple[str, str, int, bytes]]:
    transport = httpx.ASGITransport(app=platform.app)
    answers = []
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as client:
        for method, path in _requests(platform.app.openapi()["paths"]):
            answer = await client.request(method, path)
            answers.append((method, path, answer.status_code, answer.content))
    return answers


async def test_every_route_answers_as_it_does_without_the_early_miss(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Unauthenticated requests to every operation, a method no route takes, unknown
    # paths: the same status and body whether routers skip early or match each route.
    platform = LocalPlatform.start()
    try:
        guarded = await _answers(platform)
        monkeypatch.setattr(PlatformRouter, "matches", APIRouter.matches)
        plain = await _answers(platform)
    finally:
        await platform.aclose()
    assert guarded == plain
    statuses = {status for _, _, status, _ in guarded}
    assert {401, 404, 405} <= statuses
