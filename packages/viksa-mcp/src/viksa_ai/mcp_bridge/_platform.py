"""Deployed agents: tools from the platform's agent documents, calls via ``pulse.execute``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from viksa_ai.client import (
    RequestOptions,
    ViksaAuthenticationError,
    ViksaError,
    ViksaNotFoundError,
    ViksaPermissionError,
    ViksaTimeoutError,
    ViksaTransportError,
)
from viksa_ai.mcp_bridge._errors import PlatformRefusedError, ToolCallError
from viksa_ai.mcp_bridge._registry import BridgeRegistry, ViksaToolSpec, build_registry
from viksa_ai.mcp_bridge._suggest import did_you_mean

if TYPE_CHECKING:
    from viksa_ai.client import ViksaClient
    from viksa_ai.models.answers import AgentDocument, AgentMapping

__all__ = ["AgentSelection", "PlatformBackend", "load_tool_registry"]

_log = logging.getLogger("viksa_ai.mcp_bridge")
_DONE = frozenset({"completed", "complete", "success", "succeeded", "ok"})
# The most ids one `mappings.get_many` call takes.
_MAPPINGS_BATCH = 100
# Added to an endpoint's own timeout for the HTTP call that waits for it.
_HTTP_GRACE_SECONDS = 15.0
# The most aliases read to suggest one for an alias no agent has (a typo serves no tool).
_SUGGEST_ALIASES = 500
_PAGE = 100
_ENV_HINT = (
    "check the key or token in VIKSA_API_KEY (or VIKSA_ACCESS_TOKEN, "
    "VIKSA_EMAIL + VIKSA_PASSWORD), VIKSA_ORG_ID and VIKSA_PROJECT_ID"
)


@dataclass(frozen=True)
class AgentSelection:
    """Which agents to serve: one by id, one by alias, or every deployed one."""

    agent_id: str | None = None
    agent_alias: str | None = None
    all_deployed: bool = False

    def describe(self) -> str:
        """The selection in words, for logs."""
        if self.agent_id:
            return f"agent id {self.agent_id}"
        if self.agent_alias:
            return f"agent alias {self.agent_alias}"
        return "every deployed agent"


async def _agent_docs(client: ViksaClient, selection: AgentSelection) -> list[AgentDocument]:
    if selection.agent_id:
        try:
            return [await client.builder.agents.get(selection.agent_id)]
        except ViksaNotFoundError:
            _log.warning("agent %s not found: no tools for it", selection.agent_id)
            return []
    docs: list[AgentDocument] = []
    search = selection.agent_alias or None
    async for doc in client.builder.agents.iter_all(limit=100, search=search):
        if selection.agent_alias:
            if doc.get("agent_alias") == selection.agent_alias:
                docs.append(doc)
        elif doc.get("deploy_status") == "deployed":
            docs.append(doc)
    if selection.agent_alias and not docs:
        hint = did_you_mean(selection.agent_alias, await _visible_aliases(client))
        _log.warning("no agent with alias %s%s: no tools for it", selection.agent_alias, hint)
    return docs


async def _visible_aliases(client: ViksaClient) -> list[str]:
    """The aliases of the agents the caller can list: the first pages, a bounded read."""
    aliases: list[str] = []
    try:
        for skip in range(0, _SUGGEST_ALIASES, _PAGE):
            page = await client.builder.agents.list(skip=skip, limit=_PAGE)
            docs = page.get("agents") or []
            aliases += [str(d["agent_alias"]) for d in docs if d.get("agent_alias")]
            if len(docs) < _PAGE:
                break
    except ViksaError:
        pass  # only a suggestion: the warning goes out without it
    return aliases


async def _mappings(client: ViksaClient, ids: list[str]) -> list[AgentMapping]:
    found: list[AgentMapping] = []
    try:
        for start in range(0, len(ids), _MAPPINGS_BATCH):
            batch = ids[start : start + _MAPPINGS_BATCH]
            found.extend(await client.builder.mappings.get_many(batch))
    except ViksaError as exc:
        # Mappings only inform; the tools work without them.
        _log.warning("could not read the agents' mappings: %s", exc)
    return found


async def load_tool_registry(
    client: ViksaClient,
    *,
    agent_id: str | None = None,
    agent_alias: str | None = None,
    all_deployed: bool = False,
) -> BridgeRegistry:
    """The tools of the selected agents, read from the platform with ``client``.

    Give ``agent_id``, ``agent_alias`` or ``all_deployed=True``. Raises the client's
    :class:`~viksa_ai.client.ViksaError` when the platform cannot be read.
    """
    selection = AgentSelection(agent_id, agent_alias, all_deployed)
    if not (agent_id or agent_alias or all_deployed):
        raise ValueError("choose the agents to serve: agent_id, agent_alias or all_deployed")
    docs = await _agent_docs(client, selection)
    ids = [str(doc["id"]) for doc in docs if doc.get("id")]
    return build_registry(docs, await _mappings(client, ids) if ids else [])


class PlatformBackend:
    """Serves deployed agents: loads their tools and runs calls on the platform."""

    def __init__(
        self, client: ViksaClient, selection: AgentSelection, *, refused_hint: str | None = None
    ) -> None:
        """``refused_hint`` says what to do when the platform refuses the credentials
        (default: check the ``VIKSA_*`` variables ``ViksaClient.from_env()`` reads)."""
        self.client = client
        self.selection = selection
        self.refused_hint = refused_hint or _ENV_HINT

    def describe(self) -> str:
        """What is served, for logs."""
        return self.selection.describe()

    async def load(self) -> BridgeRegistry:
        """The current tools.

        Raises :class:`PlatformRefusedError` when the platform refuses the credentials
        or their access to the agents (401, 403), and the client's :class:`ViksaError`
        when it cannot be read otherwise (down, slow: a later try may succeed).
        """
        try:
            return await load_tool_registry(
                self.client,
                agent_id=self.selection.agent_id,
                agent_alias=self.selection.agent_alias,
                all_deployed=self.selection.all_deployed,
            )
        except (ViksaAuthenticationError, ViksaPermissionError) as exc:
            raise PlatformRefusedError(
                f"the Viksa platform refused to list {self.selection.describe()} ({exc}): "
                f"{self.refused_hint}"
            ) from None

    async def call(self, spec: ViksaToolSpec, arguments: dict[str, Any]) -> Any:
        """Run the tool's endpoint; its result, or :class:`ToolCallError` saying why not."""
        from viksa_ai.models.executor import EndpointExecutionRequest

        try:
            request = EndpointExecutionRequest.model_validate(
                {
                    "agent_id": spec.agent_id,
                    "agent_type": spec.agent_type,
                    "endpoint": spec.endpoint_path,
                    "inputs": arguments,
                    "task_queue": spec.task_queue,
                    "timeout": spec.timeout_seconds,
                }
            )
        except ValidationError as exc:
            # The agent's document, not the arguments: an agent type this SDK does not
            # know, a secure agent without a queue. Values are left out (the inputs').
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                for error in exc.errors(include_input=False, include_url=False)
            )
            raise ToolCallError(
                f"{spec.name}: the agent cannot be called as the platform describes it ({problems})"
            ) from None
        options = RequestOptions(timeout=spec.timeout_seconds + _HTTP_GRACE_SECONDS)
        try:
            answer = await self.client.pulse.execute(request, options=options)
        except ViksaTimeoutError:
            raise ToolCallError(
                f"{spec.name}: the platform did not answer within "
                f"{spec.timeout_seconds + _HTTP_GRACE_SECONDS:g} seconds"
            ) from None
        except ViksaTransportError as exc:
            raise ToolCallError(f"{spec.name}: the Viksa platform is unreachable ({exc})") from None
        except ViksaError as exc:
            raise ToolCallError(
                f"{spec.name}: the Viksa platform refused the call: {exc}"
            ) from None
        status = answer.status.lower()
        if status in _DONE:
            return answer.response
        if status == "awaiting_approval":
            raise ToolCallError(
                f"{spec.name}: the call waits for approval on the platform "
                f"(execution {answer.execution_id}); its result is not available yet"
            )
        detail = answer.error or "no error message"
        raise ToolCallError(f"{spec.name}: the endpoint {status}: {detail}")

    async def close(self) -> None:
        """Close the platform client."""
        await self.client.aclose()
