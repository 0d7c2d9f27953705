"""Answer a sync: which of a client's files a collection lacks, holds in another version or holds as is,
and which of its sources the client no longer has. Reads the knowledge graph only."""

from collections.abc import AsyncIterator, Mapping
from typing import Protocol

from docintake.contracts.api import SyncAnswer, SyncEntry
from docintake.contracts.events import DEFAULT_TENANT
from docintake.gateway.domain.refusals import GraphUnavailable
from docintake.gateway.domain.sync import compared, listed_files, sync_collection
from docintake.platform import errors


class SyncCatalog(Protocol):
    """The collection's sources in the knowledge graph (raises docintake.platform.errors.GraphUnavailable)."""

    async def current_versions(self, tenant: str, collection: str, paths: list[str]) -> Mapping[str, str]:
        """The current sha256 of each of `paths` the tenant's collection has, by path."""
        ...

    def source_paths(self, tenant: str, collection: str) -> AsyncIterator[str]:
        """Every source path of the tenant's collection, in pages."""
        ...


async def sync(collection: str, entries: list[SyncEntry], catalog: SyncCatalog,
               tenant: str = DEFAULT_TENANT) -> SyncAnswer:
    """Compared with the tenant's collection of that name; refuses (400) a bad collection name or list,
    (503) when the graph cannot be read."""
    name = sync_collection(collection)
    listed = listed_files(entries)
    try:
        current = await catalog.current_versions(tenant, name, [file.path for file in listed])
        stored = [path async for path in catalog.source_paths(tenant, name)]
    except (errors.GraphUnavailable, errors.GraphRefused) as exc:
        raise GraphUnavailable("The knowledge graph is unavailable; retry the sync later") from exc
    return compared(name, listed, current, stored)
