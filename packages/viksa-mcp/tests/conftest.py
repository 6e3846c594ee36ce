"""Fixtures of the bridge's unit tests: agent documents and a backend that runs nothing."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.mcp_bridge import BridgeRegistry, ToolCallError, ViksaToolSpec, build_registry

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def text_tools_doc(agent_id: str = "agt1", alias: str = "text_tools") -> dict[str, Any]:
    """The text tools example as the platform answers it, with guidelines."""
    doc: dict[str, Any] = json.loads((EXAMPLES / "text_tools_agent" / "agent.json").read_text())
    doc.update(
        id=agent_id,
        agent_alias=alias,
        status="enabled",
        ai_guidelines="Count words with word_stats.",
    )
    for endpoint in doc["agent_endpoints"]:
        endpoint["endpoint"] = f"{alias}.main.{endpoint['name']}"
    return doc


class FakeBackend:
    """A backend serving ``docs``; calls answer from ``answers`` or raise what is there."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs
        self.answers: dict[str, Any] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.load_error: Exception | None = None
        self.closed = False

    def describe(self) -> str:
        return "fake agents"

    async def load(self) -> BridgeRegistry:
        if self.load_error is not None:
            raise self.load_error
        return build_registry(copy.deepcopy(self.docs), [{"agent_id": "agt1"}])

    async def call(self, spec: ViksaToolSpec, arguments: dict[str, Any]) -> Any:
        self.calls.append((spec.name, arguments))
        answer = self.answers.get(spec.endpoint_name)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
def make_doc() -> Callable[..., dict[str, Any]]:
    """The text tools example as an agent document: ``make_doc(agent_id, alias)``."""
    return text_tools_doc


@pytest.fixture
def backend() -> FakeBackend:
    """A fake backend with the text tools agent."""
    fake = FakeBackend([text_tools_doc()])
    fake.answers = {
        "word_stats": {"words": 3, "unique": 2, "top": [], "run_id": None},
        "slugify": {"slug": "a-b"},
        "sign_message": ToolCallError("text_tools_sign_message: the endpoint failed: no key"),
    }
    return fake
