"""The Neo4j knowledge graph: documents keyed by content, their chunks, and the metadata that links them.

Every call of the driver is inside graph_errors(): what leaves is GraphUnavailable or GraphRefused.
"""

import asyncio
import math
import time
from typing import Any

from neo4j import AsyncDriver

from docintake.contracts.events import DocumentRef
from docintake.contracts.metadata import DocumentMetadata
from docintake.ingestor.domain.document import Chunk, ParsedDocument
from docintake.platform.errors import GraphRefused, GraphUnavailable
from docintake.platform.graphdb import graph_errors

SCHEMA = (
    "CREATE CONSTRAINT document_sha256 IF NOT EXISTS FOR (d:Document) REQUIRE d.sha256 IS UNIQUE",
    "CREATE CONSTRAINT author_name IF NOT EXISTS FOR (n:Author) REQUIRE n.name IS UNIQUE",
    "CREATE CONSTRAINT department_name IF NOT EXISTS FOR (n:Department) REQUIRE n.name IS UNIQUE",
    "CREATE CONSTRAINT tag_name IF NOT EXISTS FOR (n:Tag) REQUIRE n.name IS UNIQUE",
    "CREATE CONSTRAINT category_name IF NOT EXISTS FOR (n:Category) REQUIRE n.name IS UNIQUE",
    "CREATE CONSTRAINT cancelled_batch IF NOT EXISTS FOR (b:CancelledBatch) REQUIRE b.batch_id IS UNIQUE",
    "CREATE INDEX chunk_position IF NOT EXISTS FOR (c:Chunk) ON (c.document_sha256, c.index)",
    "CREATE FULLTEXT INDEX chunk_text IF NOT EXISTS FOR (c:Chunk) ON EACH [c.text]",
)

# One statement, one round trip: the document, its chunks replaced in order, its metadata links.
WRITE_DOCUMENT = """
MERGE (d:Document {sha256: $sha256})
ON CREATE SET d.first_ingested_at = datetime()
SET d += $properties,
    d.last_ingested_at = datetime(),
    d.document_ids = CASE WHEN $document_id IN coalesce(d.document_ids, []) THEN d.document_ids
                          ELSE coalesce(d.document_ids, []) + $document_id END,
    d.batch_ids = CASE WHEN $batch_id IN coalesce(d.batch_ids, []) THEN d.batch_ids
                       ELSE coalesce(d.batch_ids, []) + $batch_id END
WITH d
CALL (d) {
    MATCH (old:Chunk)-[:PART_OF]->(d)
    DETACH DELETE old
}
CALL (d) {
    UNWIND $chunks AS chunk
    CREATE (c:Chunk {document_sha256: $sha256, index: chunk.index, text: chunk.text})
    SET c.page = chunk.page, c.heading = chunk.heading
    CREATE (c)-[:PART_OF]->(d)
    WITH c ORDER BY c.index
    WITH collect(c) AS chunks
    UNWIND range(0, size(chunks) - 2) AS i
    WITH chunks[i] AS this, chunks[i + 1] AS next
    CREATE (this)-[:NEXT]->(next)
}
FOREACH (name IN $authors | MERGE (n:Author {name: name}) MERGE (d)-[:AUTHORED_BY]->(n))
FOREACH (name IN $departments | MERGE (n:Department {name: name}) MERGE (d)-[:BELONGS_TO]->(n))
FOREACH (name IN $tags | MERGE (n:Tag {name: name}) MERGE (d)-[:TAGGED]->(n))
FOREACH (name IN $categories | MERGE (n:Category {name: name}) MERGE (d)-[:IN_CATEGORY]->(n))
"""


def _property_value(value: Any) -> Any:
    """Neo4j stores primitives and homogeneous lists of them; anything else is stored as text."""
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return str(value)


def document_properties(ref: DocumentRef, metadata: DocumentMetadata, parsed: ParsedDocument) -> dict[str, Any]:
    known = {
        "author": metadata.author,
        "department": metadata.department,
        "date_created": metadata.date_created.isoformat() if metadata.date_created else None,
        "category": metadata.category,
        "tags": metadata.tags or None,
    }
    extras = {f"meta_{key}": value for key, value in metadata.extra_fields().items()}
    properties = {
        "filename": ref.filename,
        "content_type": ref.content_type,
        "size": ref.size,
        "detected_type": parsed.detected_type,
        "pages": parsed.pages,
        "characters": parsed.characters,
        **known,
        **extras,
    }
    return {key: _property_value(value) for key, value in properties.items() if value is not None}


class KnowledgeGraph:
    def __init__(self, driver: AsyncDriver, database: str = "neo4j", cancellation_max_age_seconds: float = 1.0):
        self.driver = driver
        self.database = database
        # Cancelled batches this process heard of, and when each other batch was last found not cancelled:
        # each document asks twice, so the graph is asked at most once a second per batch.
        self.cancellation_max_age_seconds = cancellation_max_age_seconds
        self._cancelled: set[str] = set()
        self._not_cancelled_at: dict[str, float] = {}

    async def ping(self) -> bool:
        try:
            async with graph_errors():
                await asyncio.wait_for(self.driver.verify_connectivity(), timeout=3)
        except (GraphUnavailable, GraphRefused, TimeoutError):
            return False
        return True

    async def ensure_schema(self) -> None:
        for statement in SCHEMA:
            async with graph_errors():
                await self.driver.execute_query(statement, database_=self.database)

    async def write_document(
        self, ref: DocumentRef, batch_id: str, metadata: DocumentMetadata, parsed: ParsedDocument, chunks: list[Chunk]
    ) -> None:
        """One transaction: the document, its chunks in order, and its metadata nodes. Idempotent."""
        parameters = {
            "sha256": ref.sha256,
            "document_id": str(ref.document_id),
            "batch_id": batch_id,
            "properties": document_properties(ref, metadata, parsed),
            "chunks": [
                {"index": c.index, "text": c.text, "page": c.page, "heading": c.heading} for c in chunks
            ],
            "authors": [metadata.author] if metadata.author else [],
            "departments": [metadata.department] if metadata.department else [],
            "tags": metadata.tags,
            "categories": [metadata.category] if metadata.category else [],
        }
        async with graph_errors():
            await self.driver.execute_query(WRITE_DOCUMENT, parameters, database_=self.database)

    async def mark_cancelled(self, batch_id: str) -> None:
        self._cancelled.add(batch_id)
        async with graph_errors():
            await self.driver.execute_query(
                "MERGE (b:CancelledBatch {batch_id: $batch_id}) ON CREATE SET b.at = datetime()",
                batch_id=batch_id, database_=self.database,
            )

    async def is_cancelled(self, batch_id: str) -> bool:
        if batch_id in self._cancelled:
            return True
        now = time.monotonic()
        if now - self._not_cancelled_at.get(batch_id, -math.inf) < self.cancellation_max_age_seconds:
            return False
        async with graph_errors():
            records, _, _ = await self.driver.execute_query(
                "MATCH (b:CancelledBatch {batch_id: $batch_id}) RETURN count(b) > 0 AS cancelled",
                batch_id=batch_id, database_=self.database,
            )
        if records[0]["cancelled"]:
            self._cancelled.add(batch_id)
            return True
        if len(self._not_cancelled_at) > 10_000:
            self._not_cancelled_at.clear()
        self._not_cancelled_at[batch_id] = now
        return False
