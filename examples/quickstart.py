"""Quick start: call a Viksa platform with the SDK.

Start the local platform first (it needs no account and no network):

    uv run viksa dev --with-examples

then paste the ``export VIKSA_...`` lines it prints into this terminal and run:

    uv run python examples/quickstart.py

The same script works against the hosted platform with your own credentials.
"""

from __future__ import annotations

import asyncio

from viksa_ai import ViksaClient, ViksaNotFoundError
from viksa_ai.models.executor import AgentType, EndpointExecutionRequest

ENDPOINT = "text_tools_agent.main.slugify"


async def main() -> None:
    """Who am I, which agents are there, run one endpoint, and ask the assistant."""
    async with ViksaClient.from_env() as client:
        me = await client.auth.me()
        agents = await client.builder.agents.list(limit=10)
        print(me.email, agents.get("total", len(agents)))

        async for agent in client.builder.agents.iter_all():
            print(f"  agent {agent['agent_alias']}: {agent.get('deploy_status', '?')}")

        alias = ENDPOINT.split(".", 1)[0]
        found = [a async for a in client.builder.agents.iter_all(search=alias)]
        if not found:
            raise SystemExit(f"No agent {alias!r}: start `viksa dev --with-examples` first.")
        result = await client.pulse.execute(
            EndpointExecutionRequest(
                agent_id=found[0]["id"],
                agent_type=AgentType.CLOUD,
                endpoint=ENDPOINT,
                inputs={"text": "Hello from the Viksa SDK"},
            )
        )
        print(f"{ENDPOINT} -> {result.status}: {result.response} ({result.duration_ms} ms)")

        events = 0
        async for event in client.chat.stream_indent_finder("What can I run?"):
            events += 1
            if event.get("type") == "result":
                print(f"chat ({events} events streamed):\n{event.get('response')}")

        try:
            await client.builder.agents.get("missing-id")
        except ViksaNotFoundError as e:
            print("typed error:", e.status_code, e.detail_message, e.request_id)


if __name__ == "__main__":
    asyncio.run(main())
