"""The public API as user code types it: the README's calls pass ``mypy --strict``.

These tests run like any other, and ``scripts/typecheck.sh`` checks this file with
mypy (strict, so an unused ``type: ignore`` is an error): an ``assert_type`` that no
longer holds, or a misspelt name the checker stops catching, fails CI.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx
from typing_extensions import assert_type

import viksa_ai.client
from viksa_ai.client import ViksaClient, ViksaSyncClient

SSE = b'data: {"step": 1}\n\ndata: [DONE]\n\n'


async def test_stream_response_needs_no_narrowing_once_open(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/chat/execution/c1/stream").respond(200, content=SSE)
    stream = make_client().chat.stream_execution("c1")
    with pytest.raises(RuntimeError, match="not open yet: use `async with stream:`"):
        _ = stream.response
    async with stream:
        assert_type(stream.response, httpx.Response)
        assert stream.response.status_code == 200  # the README's line, as written
        assert [dict(event) async for event in stream] == [{"step": 1}]


def test_sync_stream_response_needs_no_narrowing_once_open(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    api.get("/chat/execution/c1/stream").respond(200, content=SSE)
    stream = make_sync_client().chat.stream_execution("c1")
    with pytest.raises(RuntimeError, match="not open yet: use `with stream:`"):
        _ = stream.response
    with stream:
        assert_type(stream.response, httpx.Response)
        assert stream.response.status_code == 200
        assert [dict(event) for event in stream] == [{"step": 1}]


def test_a_misspelt_name_fails_the_checker_and_the_import() -> None:
    # Without the ignore mypy must report attr-defined (else the ignore is unused).
    with pytest.raises(AttributeError, match="ViksaClinet"):
        _ = viksa_ai.client.ViksaClinet  # type: ignore[attr-defined]
