"""Answers: typed in the signatures, returned as decoded, never refused for a rule.

The contract test against the local platform (viksa-devtools'
``test_platform_answer_types.py``) validates every answer against these types; here the
client alone: what it declares, and that it hands back what the platform sent.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable

import respx

from viksa_ai.client import ViksaClient, ViksaSyncClient
from viksa_ai.models.agent import AgentGenerationResponse

# A generated draft that breaks two manifest rules: no main.py, a secure agent without
# a queue. The platform answered it with a 200, so the client must return it.
DRAFT = {
    "agent_name": "draft",
    "agent_description": "not finished",
    "agent_type": "secure",
    "files": [{"name": "helper.py", "content": "x = 1", "mime_type": "python"}],
    "agent_endpoints": [],
    "reviewer_notes": "kept",
}
_RESOURCES = ("auth", "builder", "chat", "pulse", "workflow", "scheduler", "marketplace")
_NOT_OPERATIONS = frozenset({"aclose", "close", "request"})


async def test_generate_agent_returns_a_draft_that_breaks_the_manifest_rules(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.post("/chat/generate/agent").respond(200, json=DRAFT)
    draft = await make_client().chat.generate_agent("a draft")
    assert isinstance(draft, AgentGenerationResponse)
    assert [file.name for file in draft.files] == ["helper.py"]
    assert draft.model_extra == {"reviewer_notes": "kept"}


def test_the_sync_generate_agent_returns_the_draft_too(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    api.post("/chat/generate/agent").respond(200, json=DRAFT)
    assert make_sync_client().chat.generate_agent("a draft").agent_name == "draft"


async def test_a_dict_answer_is_the_decoded_json_with_every_key_kept(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    sent = {"id": "agt_1", "agent_name": "A", "agent_alias": "a", "from_the_future": [1]}
    api.get("/builder/agent/agt_1").respond(200, json=sent)
    agent = await make_client().builder.agents.get("agt_1")
    assert type(agent) is dict
    assert agent == sent
    assert agent["agent_name"] == "A"


def _returns(root: object, depth: int = 0) -> dict[str, str]:
    """``qualified name -> return annotation`` of every operation under ``root``."""
    found: dict[str, str] = {}
    for name in dir(root):
        value = getattr(root, name)
        if name.startswith("_") or name in _NOT_OPERATIONS or name.endswith("_sync"):
            continue
        if inspect.ismethod(value):
            found[value.__qualname__] = str(value.__func__.__annotations__["return"])
        elif depth < 2 and type(value).__module__.startswith("viksa_ai.client._"):
            found |= _returns(value, depth + 1)
    return found


async def test_no_operation_answers_any_or_an_untyped_dict() -> None:
    returns: dict[str, str] = {}
    async with ViksaClient("tok", base_url="https://api.viksa.test") as client:
        for resource in _RESOURCES:
            returns |= _returns(getattr(client, resource), 1)
    with ViksaSyncClient("tok", base_url="https://api.viksa.test") as sync_client:
        for resource in _RESOURCES:
            returns |= _returns(getattr(sync_client, resource), 1)
    async with ViksaClient.webhook("trg_1", base_url="https://api.viksa.test") as hook:
        returns |= _returns(hook, 2)
    with ViksaSyncClient.webhook("trg_1", base_url="https://api.viksa.test") as sync_hook:
        returns |= _returns(sync_hook, 2)
    untyped = {
        name: annotation
        for name, annotation in returns.items()
        if "Any" in re.findall(r"\w+", annotation) or "dict[" in annotation
    }
    assert len(returns) > 280  # every operation, async and sync
    assert untyped == {}
