"""The sources the knowledge graph has, read by the gateway to answer a deletion with what it removes.

Read only: the ingestor owns the knowledge graph and is the one that removes. Every call of the
driver is inside graph_errors(): what leaves is GraphUnavailable or GraphRefused.
"""

from neo4j import AsyncDriver, RoutingControl

from docintake.contracts.api import SourceEntry
from docintake.gateway.domain.deletion import Selection
from docintake.platform.graphdb import graph_errors

NAMED_SOURCES = """
UNWIND $paths AS wanted
MATCH (s:Source {collection: $collection, path: wanted})-[:CURRENT]->(d:Document)
RETURN s.collection AS collection, s.path AS path, d.sha256 AS sha256 ORDER BY path
"""
COLLECTION_SOURCES = """
MATCH (s:Source {collection: $collection})-[:CURRENT]->(d:Document)
RETURN s.collection AS collection, s.path AS path, d.sha256 AS sha256 ORDER BY path
"""
# The sources whose current version the batch wrote (one it found unchanged is its writer's).
BATCH_SOURCES = """
MATCH (s:Source {batch_id: $batch_id})-[:CURRENT]->(d:Document)
RETURN s.collection AS collection, s.path AS path, d.sha256 AS sha256 ORDER BY collection, path
"""


class GraphSourceCatalog:
    def __init__(self, driver: AsyncDriver, database: str = "neo4j"):
        self.driver = driver
        self.database = database

    async def sources(self, selection: Selection) -> list[SourceEntry]:
        if selection.scope == "sources":
            query, parameters = NAMED_SOURCES, {"collection": selection.collection, "paths": list(selection.paths)}
        elif selection.scope == "collection":
            query, parameters = COLLECTION_SOURCES, {"collection": selection.collection}
        else:
            query, parameters = BATCH_SOURCES, {"batch_id": str(selection.of_batch_id)}
        async with graph_errors():
            records, _, _ = await self.driver.execute_query(
                query, parameters, database_=self.database, routing_=RoutingControl.READ,
            )
        return [SourceEntry(collection=r["collection"], source_path=r["path"], sha256=r["sha256"]) for r in records]

    async def close(self) -> None:
        await self.driver.close()
