"""``client.builder``: agents, deploy, vault secrets, hosted MCP servers and mappings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING

from viksa_ai.client._async.resources._base import AsyncResource
from viksa_ai.client._backends import AsyncBoundedMap
from viksa_ai.client._call import BUILDER, Call, body_of, json_call, object_call, query_of

if TYPE_CHECKING:
    from viksa_ai.client._async._client import ViksaClient
    from viksa_ai.client._config import RequestOptions
    from viksa_ai.models.agent import AgentCreationRequest, AgentUpdateRequest
    from viksa_ai.models.answers import (
        AgentDocument,
        AgentMapping,
        AgentPage,
        AgentRevision,
        AgentShare,
        Build,
        Deleted,
        Deployment,
        McpServer,
        McpServerPage,
        RevisionPage,
        Secret,
        SecretDeleted,
        SecretPage,
        SecretUsage,
        VaultStatus,
    )

__all__ = [
    "AsyncAgents",
    "AsyncBuilder",
    "AsyncDeploy",
    "AsyncMappings",
    "AsyncMcp",
    "AsyncSecrets",
]


class AsyncBuilder:
    """The builder service (``/builder``): agents, deploy, secrets, mcp and mappings."""

    __slots__ = ("agents", "deploy", "mappings", "mcp", "secrets")

    def __init__(self, client: ViksaClient) -> None:
        self.agents = AsyncAgents(client)
        self.deploy = AsyncDeploy(client)
        self.secrets = AsyncSecrets(client)
        self.mcp = AsyncMcp(client)
        self.mappings = AsyncMappings(client)


def _status(enabled: bool) -> dict[str, str]:
    return {"status": "enabled" if enabled else "disabled"}


def _agents_page(skip: int, limit: int, search: str | None) -> Call[AgentPage]:
    query = query_of(skip=skip, limit=limit, search=search)
    return json_call("GET", BUILDER, "/agent/list", query=query)


class AsyncAgents(AsyncResource):
    """Agents (``/builder/agent``)."""

    __slots__ = ()

    async def create(
        self,
        request: AgentCreationRequest | Mapping[str, object],
        *,
        options: RequestOptions | None = None,
    ) -> AgentDocument:
        """Create an agent from an ``AgentCreationRequest``; answers the agent document."""
        call: Call[AgentDocument] = object_call("POST", BUILDER, "/agent/create", body=request)
        return await self._client._request(call, options)

    async def list(
        self,
        skip: int = 0,
        limit: int = 50,
        search: str | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> AgentPage:
        """One page of agents (items under ``agents``, with ``total``)."""
        return await self._client._request(_agents_page(skip, limit, search), options)

    def iter_all(
        self,
        limit: int = 50,
        search: str | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> AsyncIterator[AgentDocument]:
        """Every agent, page after page (``async for agent in ...``)."""
        return self._client._paginate(
            lambda skip, size: _agents_page(skip, size, search),
            limit=limit,
            key="agents",
            options=options,
        )

    async def get(self, agent_id: str, *, options: RequestOptions | None = None) -> AgentDocument:
        """One agent."""
        call: Call[AgentDocument] = object_call("GET", BUILDER, "/agent/{}", agent_id)
        return await self._client._request(call, options)

    async def update(
        self,
        agent_id: str,
        request: AgentUpdateRequest | Mapping[str, object],
        *,
        options: RequestOptions | None = None,
    ) -> AgentDocument:
        """Update an agent; an ``AgentUpdateRequest`` sends only the fields set."""
        call: Call[AgentDocument] = object_call("PUT", BUILDER, "/agent/{}", agent_id, body=request)
        return await self._client._request(call, options)

    async def delete(self, agent_id: str, *, options: RequestOptions | None = None) -> Deleted:
        """Delete an agent."""
        call: Call[Deleted] = json_call("DELETE", BUILDER, "/agent/{}", agent_id)
        return await self._client._request(call, options)

    async def set_status(
        self, agent_id: str, *, enabled: bool, options: RequestOptions | None = None
    ) -> AgentDocument:
        """Enable or disable an agent."""
        call: Call[AgentDocument] = object_call(
            "PATCH", BUILDER, "/agent/{}/status", agent_id, body=_status(enabled)
        )
        return await self._client._request(call, options)

    async def set_endpoint_status(
        self,
        agent_id: str,
        name: str,
        *,
        enabled: bool,
        options: RequestOptions | None = None,
    ) -> AgentDocument:
        """Enable or disable one endpoint of an agent."""
        call: Call[AgentDocument] = object_call(
            "PATCH",
            BUILDER,
            "/agent/{}/endpoint/{}/status",
            agent_id,
            name,
            body=_status(enabled),
        )
        return await self._client._request(call, options)

    async def revisions(
        self, agent_id: str, *, options: RequestOptions | None = None
    ) -> RevisionPage:
        """The revisions of an agent."""
        call: Call[RevisionPage] = json_call("GET", BUILDER, "/agent/{}/revisions", agent_id)
        return await self._client._request(call, options)

    async def revision(
        self, agent_id: str, revision_id: str | int, *, options: RequestOptions | None = None
    ) -> AgentRevision:
        """One revision of an agent."""
        call: Call[AgentRevision] = object_call(
            "GET", BUILDER, "/agent/{}/revisions/{}", agent_id, str(revision_id)
        )
        return await self._client._request(call, options)

    async def share(
        self, agent_id: str, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> AgentShare:
        """Share an agent."""
        call: Call[AgentShare] = object_call(
            "POST", BUILDER, "/agent/{}/share", agent_id, body=body
        )
        return await self._client._request(call, options)


class AsyncDeploy(AsyncResource):
    """Builds and deployments (``/builder/builder/``, ``/builder/deploy/``)."""

    __slots__ = ()

    async def build(self, agent_id: str, *, options: RequestOptions | None = None) -> Build:
        """Start a build job for an agent."""
        call: Call[Build] = object_call("POST", BUILDER, "/builder/", body={"agent_id": agent_id})
        return await self._client._request(call, options)

    async def deploy(self, agent_id: str, *, options: RequestOptions | None = None) -> Deployment:
        """Schedule a deploy of an agent."""
        call: Call[Deployment] = object_call(
            "POST", BUILDER, "/deploy/", body={"agent_id": agent_id}
        )
        return await self._client._request(call, options)

    async def reconcile(
        self, agent_id: str, *, options: RequestOptions | None = None
    ) -> Deployment:
        """Hot-reload an agent's configuration (cloud agents)."""
        call: Call[Deployment] = object_call(
            "POST", BUILDER, "/deploy/reconcile", body={"agent_id": agent_id}
        )
        return await self._client._request(call, options)


def _secrets_page(skip: int, limit: int, search: str | None) -> Call[SecretPage]:
    query = query_of(skip=skip, limit=limit, search=search)
    return json_call("GET", BUILDER, "/secret/list", query=query)


class AsyncSecrets(AsyncResource):
    """Vault secrets (``/builder/vault``, ``/builder/secret``)."""

    __slots__ = ()

    async def vault_status(self, *, options: RequestOptions | None = None) -> VaultStatus:
        """Whether the vault is configured."""
        return await self._client._request(object_call("GET", BUILDER, "/vault/status"), options)

    async def create_secret(
        self,
        name: str,
        value: str,
        description: str | None = None,
        passphrase: str | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> Secret:
        """Store a secret in the vault."""
        body = body_of(name=name, value=value, description=description, passphrase=passphrase)
        secrets = tuple(s for s in (value, passphrase) if s)
        call: Call[Secret] = object_call(
            "POST", BUILDER, "/secret/create", body=body, secrets=secrets
        )
        return await self._client._request(call, options)

    async def list_secrets(
        self,
        skip: int = 0,
        limit: int = 50,
        search: str | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> SecretPage:
        """One page of secrets (items under ``secrets``)."""
        return await self._client._request(_secrets_page(skip, limit, search), options)

    def iter_all(
        self,
        limit: int = 50,
        search: str | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> AsyncIterator[Secret]:
        """Every secret, page after page."""
        return self._client._paginate(
            lambda skip, size: _secrets_page(skip, size, search),
            limit=limit,
            key="secrets",
            options=options,
        )

    async def get_secret(
        self,
        secret_id: str,
        passphrase: str | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> Secret:
        """A secret's metadata (and value, with the passphrase when one is set)."""
        call: Call[Secret] = object_call(
            "GET",
            BUILDER,
            "/secret/{}",
            secret_id,
            query=query_of(passphrase=passphrase),
            secrets=(passphrase,) if passphrase else (),
        )
        return await self._client._request(call, options)

    async def update_secret(
        self, secret_id: str, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> Secret:
        """Update a secret."""
        # Every secret the body may carry: the server may echo any of them in an error.
        secrets = tuple(
            str(body[k]) for k in ("value", "passphrase", "current_passphrase") if body.get(k)
        )
        call: Call[Secret] = object_call(
            "PUT", BUILDER, "/secret/{}", secret_id, body=body, secrets=secrets
        )
        return await self._client._request(call, options)

    async def delete_secret(
        self, secret_id: str, force: bool = False, *, options: RequestOptions | None = None
    ) -> SecretDeleted:
        """Delete a secret (``force=True`` even when agents use it)."""
        query = query_of(force="true" if force else None)
        call: Call[SecretDeleted] = json_call(
            "DELETE", BUILDER, "/secret/{}", secret_id, query=query
        )
        return await self._client._request(call, options)

    async def secret_usage(
        self, secret_id: str, *, options: RequestOptions | None = None
    ) -> SecretUsage:
        """Which agents use a secret."""
        call: Call[SecretUsage] = json_call("GET", BUILDER, "/secret/{}/usage", secret_id)
        return await self._client._request(call, options)


def _servers_page(skip: int, limit: int, status: str | None) -> Call[McpServerPage]:
    query = query_of(status=status, skip=skip, limit=limit)
    return json_call("GET", BUILDER, "/mcp/servers", query=query)


class AsyncMcp(AsyncResource):
    """Hosted MCP servers (``/builder/mcp/servers``)."""

    __slots__ = ()

    async def create(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> McpServer:
        """Register a hosted MCP server."""
        call: Call[McpServer] = object_call("POST", BUILDER, "/mcp/servers", body=body)
        return await self._client._request(call, options)

    async def list(
        self,
        status: str | None = None,
        skip: int = 0,
        limit: int = 50,
        *,
        options: RequestOptions | None = None,
    ) -> McpServerPage:
        """One page of servers (items under ``servers``)."""
        return await self._client._request(_servers_page(skip, limit, status), options)

    def iter_all(
        self,
        status: str | None = None,
        limit: int = 50,
        *,
        options: RequestOptions | None = None,
    ) -> AsyncIterator[McpServer]:
        """Every server, page after page."""
        return self._client._paginate(
            lambda skip, size: _servers_page(skip, size, status),
            limit=limit,
            key="servers",
            options=options,
        )

    async def get(self, server_id: str, *, options: RequestOptions | None = None) -> McpServer:
        """One server."""
        call: Call[McpServer] = object_call("GET", BUILDER, "/mcp/servers/{}", server_id)
        return await self._client._request(call, options)

    async def update(
        self, server_id: str, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> McpServer:
        """Update a server."""
        call: Call[McpServer] = object_call(
            "PATCH", BUILDER, "/mcp/servers/{}", server_id, body=body
        )
        return await self._client._request(call, options)

    async def delete(self, server_id: str, *, options: RequestOptions | None = None) -> Deleted:
        """Delete a server."""
        call: Call[Deleted] = json_call("DELETE", BUILDER, "/mcp/servers/{}", server_id)
        return await self._client._request(call, options)

    async def start(self, server_id: str, *, options: RequestOptions | None = None) -> McpServer:
        """Start a server."""
        call: Call[McpServer] = object_call("POST", BUILDER, "/mcp/servers/{}/start", server_id)
        return await self._client._request(call, options)

    async def stop(self, server_id: str, *, options: RequestOptions | None = None) -> McpServer:
        """Stop a server."""
        call: Call[McpServer] = object_call("POST", BUILDER, "/mcp/servers/{}/stop", server_id)
        return await self._client._request(call, options)


# get_many: the most ids per call, and the default number of requests in flight.
MAPPINGS_MAX_IDS = 100
MAPPINGS_CONCURRENCY = 10


class AsyncMappings(AsyncResource):
    """Mappings (``/builder/mappings``)."""

    __slots__ = ()

    async def get(self, mapping_id: str, *, options: RequestOptions | None = None) -> AgentMapping:
        """One mapping."""
        call: Call[AgentMapping] = object_call("GET", BUILDER, "/mappings/{}", mapping_id)
        return await self._client._request(call, options)

    async def get_many(
        self,
        mapping_ids: Iterable[str],
        *,
        concurrency: int = MAPPINGS_CONCURRENCY,
        options: RequestOptions | None = None,
    ) -> list[AgentMapping]:
        """Several mappings, in the order of ``mapping_ids`` (at most 100 ids).

        At most ``concurrency`` requests are in flight at once; the first call that
        fails raises its error, and the calls not yet made are not made.
        """
        ids = list(mapping_ids)
        if len(ids) > MAPPINGS_MAX_IDS:
            raise ValueError(
                f"get_many takes at most {MAPPINGS_MAX_IDS} ids, got {len(ids)}: "
                "split them into batches"
            )
        if not 1 <= concurrency <= MAPPINGS_MAX_IDS:
            raise ValueError(f"concurrency must be 1..{MAPPINGS_MAX_IDS}, got {concurrency!r}")

        async def one(mapping_id: str) -> AgentMapping:
            return await self.get(mapping_id, options=options)

        return await AsyncBoundedMap(concurrency).map(one, ids)
