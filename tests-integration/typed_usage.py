"""A user's script: the client's operations with their answers read as typed values.

``scripts/typecheck.sh`` checks this file with ``mypy --strict --disallow-any-expr``: no
expression in it may be ``Any``, so every answer used here has a precise type (a
``TypedDict`` of ``viksa_ai.models.answers``, a model, or ``JSONValue`` to narrow).
``test_typed_usage.py`` runs it against the local platform, so it also works.
"""

from __future__ import annotations

from typing_extensions import assert_type

from viksa_ai.client import AsyncEventStream, ViksaClient
from viksa_ai.models.agent import AgentGenerationResponse
from viksa_ai.models.answers import (
    AgentDocument,
    AgentPage,
    ExecutionRecord,
    ExecutionRecordPage,
    JSONValue,
    StreamEvent,
    TokenStats,
)
from viksa_ai.models.auth import UserResponse
from viksa_ai.models.executor import AgentType, EndpointExecutionRequest


def _text(value: JSONValue) -> str:
    """A JSON value an endpoint answered, as text (narrowed, not cast)."""
    return value if isinstance(value, str) else ""


async def exercise(client: ViksaClient, manifest: dict[str, object]) -> list[str]:
    """Run the README's operations and a few more; returns what it saw, in order."""
    seen: list[str] = []
    me = await client.auth.me()
    assert_type(me, UserResponse)
    seen.append(me.email)

    key = await client.auth.create_api_key("ci", "for the pipeline")
    seen.append(key["key"][:3])  # the secret, shown once
    keys = await client.auth.list_api_keys()
    seen.extend(k["name"] for k in keys["keys"])

    secret = await client.builder.secrets.create_secret("svc", "s3cr3t")
    seen.append(secret["name"])
    auth_methods = {"svc": {"api_key": {"secret_id": secret["id"]}}}
    agent = await client.builder.agents.create({**manifest, "auth_methods": auth_methods})
    assert_type(agent, AgentDocument)
    agents = await client.builder.agents.list(limit=10)
    assert_type(agents, AgentPage)
    seen.append(str(agents.get("total", len(agents["agents"]))))  # the README's line
    async for listed in client.builder.agents.iter_all(search="echo"):
        seen.append(listed["agent_name"])
    for endpoint in agent.get("agent_endpoints", []):
        seen.append(endpoint["name"])
    build = await client.builder.deploy.build(agent["id"])
    deployment = await client.builder.deploy.deploy(agent["id"])
    seen += [build["status"], deployment["status"]]

    # A model's dict field takes Any: give the literal a type first.
    inputs: dict[str, JSONValue] = {"text": "typed"}
    result = await client.pulse.execute(
        EndpointExecutionRequest(
            agent_id=agent["id"],
            agent_type=AgentType.CLOUD,
            endpoint=f"{agent['agent_alias']}.main.echo",
            inputs=inputs,
        )
    )
    response = result.response
    seen.append(_text(response.get("text")) if isinstance(response, dict) else "")
    runs = await client.pulse.list_executions(agent_id=agent["id"], status="completed")
    assert_type(runs, ExecutionRecordPage)
    seen.extend(run["execution_id"] for run in runs["executions"])
    async for run in client.pulse.iter_executions(limit=10):
        assert_type(run, ExecutionRecord)
        seen.append(run["status"])

    reply = await client.chat.indent_finder("hello")
    seen.append(reply["conversation_id"][:4])
    stream: AsyncEventStream[StreamEvent] = client.chat.stream_indent_finder("hello again")
    async with stream:
        async for event in stream:
            seen.append(event["type"])
    conversation = await client.chat.get_conversation(reply["conversation_id"])
    seen.extend(message["role"] for message in conversation.get("messages", []))
    stats = await client.chat.token_stats()
    assert_type(stats, TokenStats)
    seen.append(str(stats["total_tokens"]))
    draft = await client.chat.generate_agent("an agent that echoes")
    assert_type(draft, AgentGenerationResponse)
    seen.append(draft.agent_name)

    trigger = await client.chat.triggers.create(
        {"agent_id": agent["id"], "endpoint": f"{agent['agent_alias']}.main.echo"}
    )
    seen.append(trigger.get("webhook_url", ""))
    schedule = await client.scheduler.create(
        {
            "agent_id": agent["id"],
            "endpoint": f"{agent['agent_alias']}.main.echo",
            "inputs": {"text": "every minute"},
            "interval_seconds": 60,
        }
    )
    paused = await client.scheduler.pause(schedule["id"])
    seen += [schedule["status"], paused["status"]]
    async for item in client.scheduler.iter_all():
        seen.append(item["id"][:4])

    answer = await client.request("GET", "/auth", "/me")  # an unwrapped route: JSONValue
    if isinstance(answer, dict):
        seen.append(_text(answer.get("email")))
    deleted = await client.builder.agents.delete(agent["id"])
    seen.append(str(deleted["deleted"]))
    return seen
