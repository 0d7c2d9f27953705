"""The sources the knowledge graph has, read by the gateway to answer a deletion with what it removes.

Read only: the ingestor owns the knowledge graph and is the one that removes. Every read is of one
tenant's sources. Every call of the
driver is inside graph_errors(): what leaves is GraphUnavailable or GraphRefused.
"""

from collections.abc import AsyncIterator

from docintake.contracts.api import SourceEntry
from docintake.gateway.domain.deletion import Selection
from docintake.platform.graphdb import GraphStore

NAMED_SOURCES = """
UNWIND $paths AS wanted
MATCH (s:Source {tenant: $tenant, collection: $collection, path: wanted})-[:CURRENT]->(d:Document)
RETURN s.collection AS collection, s.path AS path, d.sha256 AS sha256 ORDER BY path
"""
# `s.path >= ''` holds for every path; it lets the (tenant, collection, path) index find the collection.
COLLECTION_SOURCES = """
MATCH (s:Source)-[:CURRENT]->(d:Document)
WHERE s.tenant = $tenant AND s.collection = $collection AND s.path >= ''
RETURN s.collection AS collection, s.path AS path, d.sha256 AS sha256 ORDER BY path
"""
# The sources whose current version the batch wrote (one it found unchanged is its writer's).
BATCH_SOURCES = """
MATCH (s:Source {batch_id: $batch_id})-[:CURRENT]->(d:Document) WHERE s.tenant = $tenant
RETURN s.collection AS collection, s.path AS path, d.sha256 AS sha256 ORDER BY collection, path
"""

# A sync's reads, each bounded: the listed paths looked up a slice at a time (one seek each in the
# (collection, path) constraint's index), the collection's paths read a page at a time in index order.
LISTED_VERSIONS = """
UNWIND $paths AS wanted
MATCH (s:Source {tenant: $tenant, collection: $collection, path: wanted})-[:CURRENT]->(d:Document)
RETURN s.path AS path, d.sha256 AS sha256
"""
SOURCE_PATHS_PAGE = """
MATCH (s:Source) WHERE s.tenant = $tenant AND s.collection = $collection AND s.path > $after
WITH s ORDER BY s.tenant, s.collection, s.path LIMIT $page
RETURN s.path AS path, EXISTS { (s)-[:CURRENT]->(:Document) } AS current
"""
LOOKUP_SLICE = 5_000
PATHS_PAGE = 10_000


class GraphSourceCatalog(GraphStore):
    driver_options = {"max_connection_pool_size": 10}

    async def sources(self, selection: Selection) -> list[SourceEntry]:
        if selection.scope == "sources":
            query, parameters = NAMED_SOURCES, {"collection": selection.collection, "paths": list(selection.paths)}
        elif selection.scope == "collection":
            query, parameters = COLLECTION_SOURCES, {"collection": selection.collection}
        else:
            query, parameters = BATCH_SOURCES, {"batch_id": str(selection.of_batch_id)}
        records = await self._read(query, **parameters, tenant=selection.tenant)
        return [SourceEntry(collection=r["collection"], source_path=r["path"], sha256=r["sha256"]) for r in records]

    async def current_versions(self, tenant: str, collection: str, paths: list[str]) -> dict[str, str]:
        versions: dict[str, str] = {}
        for start in range(0, len(paths), LOOKUP_SLICE):
            records = await self._read(LISTED_VERSIONS, tenant=tenant, collection=collection,
                                       paths=paths[start : start + LOOKUP_SLICE])
            versions.update((r["path"], r["sha256"]) for r in records)
        return versions

    async def source_paths(self, tenant: str, collection: str) -> AsyncIterator[str]:
        after = ""
        while True:
            records = await self._read(SOURCE_PATHS_PAGE, tenant=tenant, collection=collection, after=after,
                                       page=PATHS_PAGE)
            for record in records:
                if record["current"]:
                    yield record["path"]
            if len(records) < PATHS_PAGE:
                return
            after = records[-1]["path"]
