"""``client.auth``: sessions, tokens, API and worker keys; ``auth.orgs``, ``auth.projects``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

from viksa_ai.client._async.resources._base import AsyncResource
from viksa_ai.client._call import (
    AUTH,
    ORG,
    PROJECT,
    Call,
    body_of,
    json_call,
    object_call,
    query_of,
)
from viksa_ai.client._decode import key_validation, token_response, user_response
from viksa_ai.client._refresh import refresh_call
from viksa_ai.client._twin import blocking_twin

if TYPE_CHECKING:
    from viksa_ai.client._async._client import ViksaClient
    from viksa_ai.client._config import RequestOptions
    from viksa_ai.models.answers import (
        ApiKey,
        ApiKeyPage,
        CreatedApiKey,
        Deleted,
        LoggedOut,
        Org,
        PlanUsage,
        Project,
        SessionPage,
        SessionRevoked,
        SessionsEnded,
    )
    from viksa_ai.models.auth import KeyValidationResponse, TokenResponse, UserResponse

__all__ = ["AsyncAuth", "AsyncOrgs", "AsyncProjects"]


class AsyncAuth(AsyncResource):
    """The auth service (``/auth``). Login, refresh and switches adopt the new tokens."""

    __slots__ = ("orgs", "projects")

    def __init__(self, client: ViksaClient) -> None:
        super().__init__(client)
        self.orgs = AsyncOrgs(client)
        self.projects = AsyncProjects(client)

    async def login(
        self, email: str, password: str, *, options: RequestOptions | None = None
    ) -> TokenResponse:
        """Log in; the client adopts the tokens and tenant ids answered."""
        call = Call(
            method="POST",
            service=AUTH,
            path="/individual/login",
            body={"email": email, "password": password},
            decode=token_response,
            authenticated=False,
            adopts_tokens=True,
            secrets=(password,),
        )
        return await self._client._request(call, options)

    async def refresh(self, *, options: RequestOptions | None = None) -> TokenResponse:
        """Exchange the refresh token for new tokens (adopted by the client)."""
        return await self._client._request(refresh_call(self._client._settings), options)

    async def me(self, *, options: RequestOptions | None = None) -> UserResponse:
        """The current user."""
        call = Call(method="GET", service=AUTH, path="/me", decode=user_response)
        return await self._client._request(call, options)

    async def switch_org(
        self, org_id: str, *, options: RequestOptions | None = None
    ) -> TokenResponse:
        """Switch the active organization; the new tokens and org are adopted."""
        call = _switch("/switch-org", {"org_id": org_id}, (org_id, None))
        return await self._client._request(call, options)

    async def switch_project(
        self, project_id: str, *, options: RequestOptions | None = None
    ) -> TokenResponse:
        """Switch the active project; the new tokens and project are adopted."""
        call = _switch("/switch-project", {"project_id": project_id}, (None, project_id))
        return await self._client._request(call, options)

    async def logout(self, *, options: RequestOptions | None = None) -> LoggedOut:
        """End this session."""
        return await self._client._request(json_call("POST", AUTH, "/logout"), options)

    async def logout_all(self, *, options: RequestOptions | None = None) -> LoggedOut:
        """End every session of the user."""
        return await self._client._request(json_call("POST", AUTH, "/logout-all"), options)

    async def usage(self, *, options: RequestOptions | None = None) -> PlanUsage:
        """Plan usage."""
        return await self._client._request(object_call("GET", AUTH, "/usage"), options)

    async def list_sessions(self, *, options: RequestOptions | None = None) -> SessionPage:
        """The user's active sessions."""
        return await self._client._request(json_call("GET", AUTH, "/sessions"), options)

    async def revoke_session(
        self, session_id: str, *, options: RequestOptions | None = None
    ) -> SessionRevoked:
        """Revoke one session."""
        call: Call[SessionRevoked] = json_call("DELETE", AUTH, "/sessions/{}", session_id)
        return await self._client._request(call, options)

    async def revoke_all_sessions(self, *, options: RequestOptions | None = None) -> SessionsEnded:
        """Revoke every session."""
        return await self._client._request(json_call("DELETE", AUTH, "/sessions"), options)

    async def validate_api_key(
        self, key: str, *, options: RequestOptions | None = None
    ) -> KeyValidationResponse:
        """Check an API key and learn the tenant and scopes it grants."""
        call = Call(
            method="POST",
            service=AUTH,
            path="/key/validate/api",
            body={"api_key": key},
            decode=key_validation,
            secrets=(key,),
        )
        return await self._client._request(call, options)

    async def create_api_key(
        self,
        name: str,
        description: str | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> CreatedApiKey:
        """Create a project API key; its secret value is in this answer only."""
        body = body_of(name=name, description=description)
        return await self._client._request(
            object_call("POST", AUTH, "/key/api", body=body), options
        )

    async def list_api_keys(
        self, skip: int = 0, limit: int = 50, *, options: RequestOptions | None = None
    ) -> ApiKeyPage:
        """One page of API keys (items under ``keys``)."""
        return await self._client._request(_keys_page("/key/api", skip, limit), options)

    def iter_api_keys(
        self, limit: int = 50, *, options: RequestOptions | None = None
    ) -> AsyncIterator[ApiKey]:
        """Every API key, page after page."""
        return self._client._paginate(
            lambda skip, size: _keys_page("/key/api", skip, size),
            limit=limit,
            key="keys",
            options=options,
        )

    async def revoke_api_key(self, key_id: str, *, options: RequestOptions | None = None) -> ApiKey:
        """Revoke an API key (it stops working, its record stays)."""
        call: Call[ApiKey] = json_call("POST", AUTH, "/key/api/{}/revoke", key_id)
        return await self._client._request(call, options)

    async def delete_api_key(
        self, key_id: str, *, options: RequestOptions | None = None
    ) -> Deleted:
        """Delete an API key."""
        return await self._client._request(
            json_call("DELETE", AUTH, "/key/api/{}", key_id), options
        )

    async def create_worker_key(
        self,
        name: str,
        description: str | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> CreatedApiKey:
        """Create a worker key; its secret value is in this answer only."""
        body = body_of(name=name, description=description)
        call: Call[CreatedApiKey] = object_call("POST", AUTH, "/key/worker", body=body)
        return await self._client._request(call, options)

    async def list_worker_keys(
        self, skip: int = 0, limit: int = 50, *, options: RequestOptions | None = None
    ) -> ApiKeyPage:
        """One page of worker keys (items under ``keys``)."""
        return await self._client._request(_keys_page("/key/worker", skip, limit), options)

    def iter_worker_keys(
        self, limit: int = 50, *, options: RequestOptions | None = None
    ) -> AsyncIterator[ApiKey]:
        """Every worker key, page after page."""
        return self._client._paginate(
            lambda skip, size: _keys_page("/key/worker", skip, size),
            limit=limit,
            key="keys",
            options=options,
        )

    # unasync: begin async-only
    def login_sync(
        self, email: str, password: str, *, options: RequestOptions | None = None
    ) -> TokenResponse:
        """``login``, blocking; the tokens serve this client too."""
        return blocking_twin(self._client).auth.login(email, password, options=options)

    def refresh_sync(self, *, options: RequestOptions | None = None) -> TokenResponse:
        """``refresh``, blocking."""
        return blocking_twin(self._client).auth.refresh(options=options)

    def me_sync(self, *, options: RequestOptions | None = None) -> UserResponse:
        """``me``, blocking."""
        return blocking_twin(self._client).auth.me(options=options)

    def validate_api_key_sync(
        self, key: str, *, options: RequestOptions | None = None
    ) -> KeyValidationResponse:
        """``validate_api_key``, blocking."""
        return blocking_twin(self._client).auth.validate_api_key(key, options=options)

    # unasync: end


def _switch(
    path: str, body: dict[str, str], tenant: tuple[str | None, str | None]
) -> Call[TokenResponse]:
    return Call(
        method="POST",
        service=AUTH,
        path=path,
        body=body,
        decode=token_response,
        adopts_tokens=True,
        switches_to=tenant,
    )


def _keys_page(path: str, skip: int, limit: int) -> Call[ApiKeyPage]:
    return json_call("GET", AUTH, path, query=query_of(skip=skip, limit=limit))


class AsyncOrgs(AsyncResource):
    """Organizations (``/org``)."""

    __slots__ = ()

    async def list(self, *, options: RequestOptions | None = None) -> list[Org]:
        """The organizations of the user."""
        return await self._client._request(json_call("GET", ORG, "/list"), options)

    async def create(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> Org:
        """Create an organization."""
        return await self._client._request(object_call("POST", ORG, "/create", body=body), options)

    async def get(self, org_id: str, *, options: RequestOptions | None = None) -> Org:
        """One organization."""
        return await self._client._request(object_call("GET", ORG, "/{}", org_id), options)

    async def update(
        self, org_id: str, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> Org:
        """Update an organization."""
        call: Call[Org] = object_call("PUT", ORG, "/{}", org_id, body=body)
        return await self._client._request(call, options)

    async def delete(self, org_id: str, *, options: RequestOptions | None = None) -> Deleted:
        """Delete an organization."""
        return await self._client._request(json_call("DELETE", ORG, "/{}", org_id), options)


class AsyncProjects(AsyncResource):
    """Projects (``/project``)."""

    __slots__ = ()

    async def create(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> Project:
        """Create a project."""
        call: Call[Project] = object_call("POST", PROJECT, "/create", body=body)
        return await self._client._request(call, options)

    async def list(self, org_id: str, *, options: RequestOptions | None = None) -> list[Project]:
        """The projects of an organization."""
        return await self._client._request(json_call("GET", PROJECT, "/list/{}", org_id), options)

    async def get(self, project_id: str, *, options: RequestOptions | None = None) -> Project:
        """One project."""
        call: Call[Project] = object_call("GET", PROJECT, "/{}", project_id)
        return await self._client._request(call, options)

    async def update(
        self, project_id: str, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> Project:
        """Update a project."""
        call: Call[Project] = object_call("PUT", PROJECT, "/{}", project_id, body=body)
        return await self._client._request(call, options)

    async def delete(self, project_id: str, *, options: RequestOptions | None = None) -> Deleted:
        """Delete a project."""
        call: Call[Deleted] = json_call("DELETE", PROJECT, "/{}", project_id)
        return await self._client._request(call, options)
