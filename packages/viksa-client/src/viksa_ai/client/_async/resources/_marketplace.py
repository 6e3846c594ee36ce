"""``client.marketplace``: listings, workforce, publishers, categories, installations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from viksa_ai.client._async.resources._base import AsyncResource
from viksa_ai.client._call import MARKETPLACE, Call, json_call, object_call, query_of

if TYPE_CHECKING:
    from viksa_ai.client._async._client import ViksaClient
    from viksa_ai.client._config import RequestOptions
    from viksa_ai.models.answers import (
        Categories,
        Installation,
        InstallationPage,
        Listing,
        ListingPage,
        PublisherProfile,
        WorkforceListing,
        WorkforcePage,
    )

__all__ = ["AsyncListings", "AsyncMarketplace", "AsyncPublishers", "AsyncWorkforce"]


class AsyncMarketplace(AsyncResource):
    """The marketplace (``/marketplace/api/v1/marketplace``)."""

    __slots__ = ("listings", "publishers", "workforce")

    def __init__(self, client: ViksaClient) -> None:
        super().__init__(client)
        self.listings = AsyncListings(client)
        self.workforce = AsyncWorkforce(client)
        self.publishers = AsyncPublishers(client)

    async def categories(self, *, options: RequestOptions | None = None) -> Categories:
        """The catalog's categories."""
        return await self._client._request(json_call("GET", MARKETPLACE, "/categories"), options)

    async def installations(
        self, *, options: RequestOptions | None = None, **query: Any
    ) -> InstallationPage:
        """Your installations; keyword arguments become the query."""
        call: Call[InstallationPage] = json_call(
            "GET", MARKETPLACE, "/install", query=query_of(**query)
        )
        return await self._client._request(call, options)


def _listings_page(query: Mapping[str, Any], skip: int, limit: int) -> Call[ListingPage]:
    page_query = query_of(**{**query, "skip": skip, "limit": limit})
    return json_call("GET", MARKETPLACE, "/listings", query=page_query)


class AsyncListings(AsyncResource):
    """Agent listings."""

    __slots__ = ()

    async def create(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> Listing:
        """Create a listing."""
        call: Call[Listing] = object_call("POST", MARKETPLACE, "/listings", body=body)
        return await self._client._request(call, options)

    async def search(self, *, options: RequestOptions | None = None, **query: Any) -> ListingPage:
        """Search listings; keyword arguments become the query."""
        call: Call[ListingPage] = json_call(
            "GET", MARKETPLACE, "/listings/search", query=query_of(**query)
        )
        return await self._client._request(call, options)

    async def list(self, *, options: RequestOptions | None = None, **query: Any) -> ListingPage:
        """One page of listings (items under ``listings``); keywords become the query."""
        call: Call[ListingPage] = json_call(
            "GET", MARKETPLACE, "/listings", query=query_of(**query)
        )
        return await self._client._request(call, options)

    def iter_all(
        self, *, options: RequestOptions | None = None, **query: Any
    ) -> AsyncIterator[Listing]:
        """Every listing, page after page (``limit`` in the keywords sets the page size)."""
        limit = int(query.pop("limit", 50))
        query.pop("skip", None)
        return self._client._paginate(
            lambda skip, size: _listings_page(query, skip, size),
            limit=limit,
            key="listings",
            options=options,
        )

    async def get(self, listing_id: str, *, options: RequestOptions | None = None) -> Listing:
        """One listing."""
        call: Call[Listing] = object_call("GET", MARKETPLACE, "/listings/{}", listing_id)
        return await self._client._request(call, options)

    async def publish(
        self,
        listing_id: str,
        body: Mapping[str, object] | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> Listing:
        """Publish a listing."""
        call: Call[Listing] = object_call(
            "POST", MARKETPLACE, "/listings/{}/publish", listing_id, body=body
        )
        return await self._client._request(call, options)

    async def install(
        self, listing_id: str, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> Installation:
        """Install a listed agent."""
        call: Call[Installation] = object_call(
            "POST", MARKETPLACE, "/listings/{}/install", listing_id, body=body
        )
        return await self._client._request(call, options)


class AsyncWorkforce(AsyncResource):
    """Workforce listings."""

    __slots__ = ()

    async def publish(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> WorkforceListing:
        """Publish a workforce."""
        call: Call[WorkforceListing] = object_call(
            "POST", MARKETPLACE, "/workforce/publish", body=body
        )
        return await self._client._request(call, options)

    async def search(self, *, options: RequestOptions | None = None, **query: Any) -> WorkforcePage:
        """Search workforces; keyword arguments become the query."""
        call: Call[WorkforcePage] = json_call(
            "GET", MARKETPLACE, "/workforce/search", query=query_of(**query)
        )
        return await self._client._request(call, options)

    async def get(
        self, listing_id: str, *, options: RequestOptions | None = None
    ) -> WorkforceListing:
        """One workforce listing (``listing_id``: the workforce's id, named as in 0.2)."""
        call: Call[WorkforceListing] = object_call("GET", MARKETPLACE, "/workforce/{}", listing_id)
        return await self._client._request(call, options)

    async def install(
        self, listing_id: str, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> Installation:
        """Install a workforce (``listing_id``: the workforce's id, named as in 0.2)."""
        call: Call[Installation] = object_call(
            "POST", MARKETPLACE, "/workforce/{}/install", listing_id, body=body
        )
        return await self._client._request(call, options)


class AsyncPublishers(AsyncResource):
    """Publisher profiles."""

    __slots__ = ()

    async def create_profile(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> PublisherProfile:
        """Create your publisher profile."""
        call: Call[PublisherProfile] = object_call(
            "POST", MARKETPLACE, "/publishers/profile", body=body
        )
        return await self._client._request(call, options)

    async def me(self, *, options: RequestOptions | None = None) -> PublisherProfile:
        """Your publisher profile."""
        return await self._client._request(
            object_call("GET", MARKETPLACE, "/publishers/me"), options
        )

    async def update_profile(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> PublisherProfile:
        """Update your publisher profile."""
        call: Call[PublisherProfile] = object_call(
            "PUT", MARKETPLACE, "/publishers/profile", body=body
        )
        return await self._client._request(call, options)
