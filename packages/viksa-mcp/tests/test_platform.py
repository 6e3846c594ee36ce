"""Deployed agents: the registry read with the client, calls through ``pulse.execute``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from viksa_ai.client import RetryConfig, ViksaClient, ViksaTransportError
from viksa_ai.mcp_bridge import (
    AgentSelection,
    PlatformBackend,
    PlatformRefusedError,
    ToolCallError,
    ViksaToolSpec,
    agent_doc_to_tools,
    load_tool_registry,
)

BASE = "https://api.viksa.test"
API_KEY = "vk-secret-key-123"

MakeDoc = Callable[..., dict[str, Any]]


@pytest.fixture
async def client() -> AsyncIterator[ViksaClient]:
    async with ViksaClient(
        api_key=API_KEY,
        org_id="o1",
        project_id="p1",
        base_url=BASE,
        retry=RetryConfig(max_retries=0),
    ) as made:
        yield made


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def _agents(api: respx.MockRouter, docs: list[dict[str, Any]]) -> None:
    api.get("/builder/agent/list").mock(
        return_value=httpx.Response(200, json={"agents": docs, "total": len(docs)})
    )
    api.get(url__regex=r"/builder/mappings/").mock(
        side_effect=lambda request: httpx.Response(
            200, json={"agent_id": request.url.path.rsplit("/", 1)[1]}
        )
    )


async def test_all_deployed_serves_only_deployed_agents(
    api: respx.MockRouter, client: ViksaClient, make_doc: MakeDoc
) -> None:
    deployed = {**make_doc("agt1", "one"), "deploy_status": "deployed"}
    draft = {**make_doc("agt2", "two"), "deploy_status": "not_deployed"}
    _agents(api, [deployed, draft])
    registry = await load_tool_registry(client, all_deployed=True)
    assert registry.names() == ["one_sign_message", "one_slugify", "one_word_stats"]
    assert registry.mappings == [{"agent_id": "agt1"}]


async def test_an_alias_selects_that_agent_only(
    api: respx.MockRouter, client: ViksaClient, make_doc: MakeDoc
) -> None:
    _agents(api, [make_doc("agt1", "one"), make_doc("agt2", "one_more")])
    registry = await load_tool_registry(client, agent_alias="one")
    assert {spec.agent_id for spec in registry.tools.values()} == {"agt1"}
    assert api.calls[0].request.url.params["search"] == "one"


async def test_a_misspelt_alias_warns_with_the_closest_alias(
    api: respx.MockRouter,
    client: ViksaClient,
    make_doc: MakeDoc,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A typo served 0 tools, and the warning named no alias the caller could mean.
    docs = [make_doc("agt1", "text_tools_agent"), make_doc("agt2", "aviation_agent")]

    def listing(request: httpx.Request) -> httpx.Response:
        # The platform's search is a substring match: the typo finds nothing.
        found = [] if request.url.params.get("search") else docs
        return httpx.Response(200, json={"agents": found, "total": len(found)})

    api.get("/builder/agent/list").mock(side_effect=listing)
    with caplog.at_level("WARNING", logger="viksa_ai.mcp_bridge"):
        registry = await load_tool_registry(client, agent_alias="text_tools_agnt")
    assert registry.tools == {}
    assert caplog.messages == [
        "no agent with alias text_tools_agnt (did you mean 'text_tools_agent'?): no tools for it"
    ]
    # Bounded: one page of at most 100 agents for the suggestion.
    assert [call.request.url.params["limit"] for call in api.calls][-1] == "100"


async def test_an_alias_far_from_every_other_warns_without_a_suggestion(
    api: respx.MockRouter,
    client: ViksaClient,
    make_doc: MakeDoc,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api.get("/builder/agent/list").mock(
        side_effect=[
            httpx.Response(200, json={"agents": [], "total": 0}),
            httpx.Response(500, json={"detail": "down"}),
        ]
    )
    with caplog.at_level("WARNING", logger="viksa_ai.mcp_bridge"):
        assert (await load_tool_registry(client, agent_alias="zzz")).tools == {}
    assert caplog.messages == ["no agent with alias zzz: no tools for it"]


async def test_an_unknown_id_serves_no_tools_and_failing_mappings_do_not_matter(
    api: respx.MockRouter, client: ViksaClient, make_doc: MakeDoc
) -> None:
    api.get("/builder/agent/gone").mock(return_value=httpx.Response(404, json={"detail": "x"}))
    assert (await load_tool_registry(client, agent_id="gone")).tools == {}
    api.get("/builder/agent/agt1").mock(return_value=httpx.Response(200, json=make_doc()))
    api.get("/builder/mappings/agt1").mock(return_value=httpx.Response(500, json={}))
    registry = await load_tool_registry(client, agent_id="agt1")
    assert (len(registry.tools), registry.mappings) == (3, [])
    with pytest.raises(ValueError, match="choose the agents"):
        await load_tool_registry(client)


def _spec(make_doc: MakeDoc) -> ViksaToolSpec:
    return agent_doc_to_tools(make_doc())[1]  # slugify


async def test_a_call_sends_the_execution_request_and_answers_the_response(
    api: respx.MockRouter, client: ViksaClient, make_doc: MakeDoc
) -> None:
    route = api.post("/pulse/executor/execute").mock(
        return_value=httpx.Response(
            200,
            json={"status": "completed", "execution_id": "e1", "endpoint": "x", "response": 7},
        )
    )
    backend = PlatformBackend(client, AgentSelection(agent_id="agt1"))
    assert await backend.call(_spec(make_doc), {"text": "A B"}) == 7
    body = json.loads(route.calls.last.request.content)
    assert body["endpoint"] == "text_tools.main.slugify"
    assert (body["agent_id"], body["agent_type"], body["inputs"]) == (
        "agt1",
        "cloud",
        {"text": "A B"},
    )
    assert body["timeout"] == 5


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            httpx.Response(
                200,
                json={"status": "failed", "execution_id": "e", "endpoint": "x", "error": "bad"},
            ),
            "text_tools_slugify: the endpoint failed: bad",
        ),
        (
            httpx.Response(
                200, json={"status": "awaiting_approval", "execution_id": "e9", "endpoint": "x"}
            ),
            "waits for approval on the platform (execution e9)",
        ),
        (
            httpx.Response(403, json={"detail": "no access"}),
            "text_tools_slugify: the Viksa platform refused the call: ",
        ),
        (httpx.ConnectError("refused"), "the Viksa platform is unreachable"),
        (httpx.ReadTimeout("slow"), "the platform did not answer within 20 seconds"),
    ],
)
async def test_every_failure_is_a_tool_call_error_without_secrets(
    api: respx.MockRouter,
    client: ViksaClient,
    make_doc: MakeDoc,
    answer: httpx.Response | Exception,
    message: str,
) -> None:
    api.post("/pulse/executor/execute").mock(
        **({"side_effect": answer} if isinstance(answer, Exception) else {"return_value": answer})
    )
    backend = PlatformBackend(client, AgentSelection(all_deployed=True))
    with pytest.raises(ToolCallError) as caught:
        await backend.call(_spec(make_doc), {"text": "A"})
    assert message in str(caught.value)
    assert API_KEY not in str(caught.value)


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_listing_is_a_platform_refused_error_without_the_key(
    api: respx.MockRouter, client: ViksaClient, status: int
) -> None:
    api.get("/builder/agent/list").mock(
        return_value=httpx.Response(status, json={"detail": "Invalid API key"})
    )
    backend = PlatformBackend(client, AgentSelection(all_deployed=True))
    with pytest.raises(PlatformRefusedError) as caught:
        await backend.load()
    message = str(caught.value)
    assert "refused to list every deployed agent" in message
    assert "VIKSA_API_KEY" in message
    assert API_KEY not in message


async def test_an_unreachable_platform_is_not_a_refusal(
    api: respx.MockRouter, client: ViksaClient
) -> None:
    api.get("/builder/agent/list").mock(side_effect=httpx.ConnectError("refused"))
    backend = PlatformBackend(client, AgentSelection(all_deployed=True))
    # The client's transport error, for the bridge to try again at its next refresh.
    with pytest.raises(ViksaTransportError):
        await backend.load()


@pytest.mark.parametrize(
    ("changes", "sent"),
    [
        ({"agent_type": "CLOUD"}, ("cloud", None)),
        (
            {"agent_type": "secure", "chrona_queue": {"chrona_queues": [" ", "q1"]}},
            ("secure", "q1"),
        ),
    ],
)
async def test_an_agent_type_in_capitals_and_a_blank_first_queue_still_call(
    api: respx.MockRouter,
    client: ViksaClient,
    make_doc: MakeDoc,
    changes: dict[str, Any],
    sent: tuple[str, str | None],
) -> None:
    route = api.post("/pulse/executor/execute").mock(
        return_value=httpx.Response(
            200, json={"status": "completed", "execution_id": "e", "endpoint": "x", "response": 1}
        )
    )
    spec = agent_doc_to_tools({**make_doc(), **changes})[1]
    assert await PlatformBackend(client, AgentSelection(agent_id="agt1")).call(spec, {}) == 1
    body = json.loads(route.calls.last.request.content)
    assert (body["agent_type"], body.get("task_queue")) == sent


async def test_an_agent_the_sdk_cannot_call_is_a_readable_tool_error(
    client: ViksaClient, make_doc: MakeDoc
) -> None:
    # It was "the bridge failed to run it (ValidationError)", the log no wiser.
    spec = agent_doc_to_tools({**make_doc(), "agent_type": "edge"})[1]
    with pytest.raises(ToolCallError) as caught:
        await PlatformBackend(client, AgentSelection(agent_id="agt1")).call(
            spec, {"text": "private words"}
        )
    message = str(caught.value)
    assert message.startswith("text_tools_slugify: the agent cannot be called as the platform")
    assert "agent_type: Input should be 'cloud' or 'secure'" in message
    assert "private words" not in message
