"""The Neo4j knowledge graph, each tenant's apart: documents keyed by content, their chunks, the metadata
that links them, and the sources (collection, path) that point at their current document.

Every call of the driver is inside graph_errors(): what leaves is GraphUnavailable or GraphRefused.
"""

import asyncio
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from neo4j import AsyncDriver, AsyncManagedTransaction

from docintake.contracts.events import DEFAULT_TENANT, DocumentRef
from docintake.contracts.metadata import DocumentMetadata
from docintake.ingestor.adapters.spool import chunk_row
from docintake.ingestor.domain.document import Chunk, ParsedDocument, Spool
from docintake.ingestor.domain.removals import SourceRemoval
from docintake.ingestor.domain.versions import CurrentVersion, Figures, SourceWrite
from docintake.platform.errors import GraphRefused, GraphUnavailable
from docintake.platform.graphdb import graph_errors

if TYPE_CHECKING:
    from docintake.ingestor.adapters.staged_writes import StagedWriter

# Everything is its tenant's: a tenant's documents, sources, chunks and metadata nodes are keyed within it,
# so that two tenants' identical files or same-named authors never share a node.
# Before tenants, keys were global: those constraints go, and what was written then is the default tenant's.
MIGRATIONS = (
    *(f"DROP CONSTRAINT {name} IF EXISTS" for name in (
        "document_sha256", "source_path", "author_name", "department_name", "tag_name", "category_name")),
    "DROP INDEX chunk_position IF EXISTS",
    *(f"MATCH (n:{label}) WHERE n.tenant IS NULL SET n.tenant = '{DEFAULT_TENANT}'"
      for label in ("Document", "Source", "Chunk", "Author", "Department", "Tag", "Category")),
)
SCHEMA = (
    "CREATE CONSTRAINT tenant_document IF NOT EXISTS FOR (d:Document) REQUIRE (d.tenant, d.sha256) IS UNIQUE",
    "CREATE CONSTRAINT tenant_source IF NOT EXISTS FOR (s:Source) REQUIRE (s.tenant, s.collection, s.path) IS UNIQUE",
    "CREATE INDEX source_batch IF NOT EXISTS FOR (s:Source) ON (s.batch_id)",
    "CREATE CONSTRAINT tenant_author IF NOT EXISTS FOR (n:Author) REQUIRE (n.tenant, n.name) IS UNIQUE",
    "CREATE CONSTRAINT tenant_department IF NOT EXISTS FOR (n:Department) REQUIRE (n.tenant, n.name) IS UNIQUE",
    "CREATE CONSTRAINT tenant_tag IF NOT EXISTS FOR (n:Tag) REQUIRE (n.tenant, n.name) IS UNIQUE",
    "CREATE CONSTRAINT tenant_category IF NOT EXISTS FOR (n:Category) REQUIRE (n.tenant, n.name) IS UNIQUE",
    "CREATE CONSTRAINT cancelled_batch IF NOT EXISTS FOR (b:CancelledBatch) REQUIRE b.batch_id IS UNIQUE",
    "CREATE INDEX tenant_chunk_position IF NOT EXISTS FOR (c:Chunk) ON (c.tenant, c.document_sha256, c.index)",
    "CREATE FULLTEXT INDEX chunk_text IF NOT EXISTS FOR (c:Chunk) ON EACH [c.text]",
)

CURRENT_VERSION = """
MATCH (s:Source {tenant: $tenant, collection: $collection, path: $path})-[:CURRENT]->(d:Document)
RETURN d.sha256 AS sha256, s.document_id AS document_id, s.change AS change,
       s.replaced_sha256 AS replaced_sha256, coalesce(s.replaced_document_deleted, false) AS replaced_document_deleted,
       d.detected_type AS detected_type, d.pages AS pages, d.characters AS characters,
       COUNT { (:Chunk)-[:PART_OF]->(d) } AS chunks
"""

# First in the transaction that writes a version: the source, locked (a property set takes its write
# lock, and the uniqueness constraint makes concurrent MERGEs of it one node), so that two writers of
# one source take turns and each reads the version the other committed.
LOCK_SOURCE = """
MERGE (s:Source {tenant: $tenant, collection: $collection, path: $path})
ON CREATE SET s.created_at = datetime()
SET s.locked_at = datetime()
"""

# `old` gone, with its chunks and the metadata nodes nothing else links, each locked first.
VERSION_REMOVED = """
OPTIONAL MATCH (old)-[:AUTHORED_BY|BELONGS_TO|TAGGED|IN_CATEGORY]->(m)
WITH old, collect(DISTINCT m) AS metadata
FOREACH (m IN metadata | SET m.unlinked_at = datetime())
WITH old, metadata
CALL (old) {
    MATCH (c:Chunk)-[:PART_OF]->(old)
    DETACH DELETE c
}
DETACH DELETE old
WITH metadata
UNWIND metadata AS m
WITH m WHERE NOT EXISTS { (m)--() }
DELETE m
"""

# The version `old` a source no longer points at (replaced or deleted), with its chunks and the metadata
# nodes nothing else links, gone once no source points at it: old_orphaned says whether it went. `old` is
# locked first, and so are its metadata nodes, so that two transactions unlinking the last two links of
# one node take turns and the second sees the first's unlinking. The replacement and the deletion of a
# source both end with it. A large version (written staged) is not removed here but retired under $retire_id,
# for staged_writes to remove in bounded transactions once this one committed.
ORPHANED_VERSION = """
CALL (old) {
    WITH old WHERE old IS NOT NULL
    SET old.unlinked_at = datetime()
}
WITH *, old IS NOT NULL AND NOT EXISTS { (:Source)-[:CURRENT]->(old) } AS old_orphaned
CALL (old, old_orphaned) {
    WITH old WHERE old_orphaned AND old.staged
    REMOVE old:Document
    SET old:RetiredDocument, old.retired_id = $retire_id, old.touched_at = datetime()
}
CALL (old, old_orphaned) {
    WITH old WHERE old_orphaned AND old.staged IS NULL
""" + VERSION_REMOVED + """
}
"""

# The chunks of $chunks created, part of `d`, linked in their order; `chunks`, in their order.
CHUNKS_CREATED = """
UNWIND $chunks AS chunk
CREATE (c:Chunk {tenant: $tenant, document_sha256: $sha256, index: chunk.index, text: chunk.text})
SET c.page = chunk.page, c.heading = chunk.heading, c.heading_path = chunk.heading_path
CREATE (c)-[:PART_OF]->(d)
WITH c ORDER BY c.index
WITH collect(c) AS chunks
CALL (chunks) {
    UNWIND range(0, size(chunks) - 2) AS i
    WITH chunks[i] AS this, chunks[i + 1] AS next
    CREATE (this)-[:NEXT]->(next)
}
"""

# The end of a version's write, with `s` (its source, locked), `old` (the version it has now), `old_sha256` and `d`
# (the document, its chunks written): its properties and metadata links; the source pointed at it; and the version
# it replaced, with its chunks and the metadata nodes nothing else links, gone once no source points at it.
LINK_VERSION = """
SET d += $properties,
    d.last_ingested_at = datetime(),
    d.document_ids = CASE WHEN $document_id IN coalesce(d.document_ids, []) THEN d.document_ids
                          ELSE coalesce(d.document_ids, []) + $document_id END,
    d.batch_ids = CASE WHEN $batch_id IN coalesce(d.batch_ids, []) THEN d.batch_ids
                       ELSE coalesce(d.batch_ids, []) + $batch_id END
FOREACH (name IN $authors | MERGE (n:Author {tenant: $tenant, name: name}) MERGE (d)-[:AUTHORED_BY]->(n))
FOREACH (name IN $departments | MERGE (n:Department {tenant: $tenant, name: name}) MERGE (d)-[:BELONGS_TO]->(n))
FOREACH (name IN $tags | MERGE (n:Tag {tenant: $tenant, name: name}) MERGE (d)-[:TAGGED]->(n))
FOREACH (name IN $categories | MERGE (n:Category {tenant: $tenant, name: name}) MERGE (d)-[:IN_CATEGORY]->(n))
WITH s, old, old_sha256, d,
     CASE WHEN old IS NULL THEN 'added' WHEN old_sha256 = $sha256 THEN 'unchanged' ELSE 'replaced' END AS change
CALL (s, old, d, change) {
    WITH s, old, d, change WHERE change <> 'unchanged'
    OPTIONAL MATCH (s)-[current:CURRENT]->(old)
    DELETE current
    CREATE (s)-[:CURRENT]->(d)
    SET s.document_id = $document_id, s.batch_id = $batch_id, s.change = change,
        s.replaced_sha256 = old.sha256, s.updated_at = datetime(),
        s.object_keys = CASE WHEN $key IN coalesce(s.object_keys, []) THEN s.object_keys
                             ELSE coalesce(s.object_keys, []) + $key END
}
WITH s, old, old_sha256, change
""" + ORPHANED_VERSION + """
SET s.replaced_document_deleted = CASE WHEN change = 'unchanged' THEN s.replaced_document_deleted ELSE old_orphaned END
RETURN change, CASE WHEN change = 'replaced' THEN old_sha256 END AS replaced_sha256, old_orphaned
"""

# Then, in one statement: the document, its chunks replaced in order, and LINK_VERSION.
WRITE_DOCUMENT = """
MATCH (s:Source {tenant: $tenant, collection: $collection, path: $path})
OPTIONAL MATCH (s)-[:CURRENT]->(old:Document)
WITH s, old, old.sha256 AS old_sha256
MERGE (d:Document {tenant: $tenant, sha256: $sha256})
ON CREATE SET d.first_ingested_at = datetime()
WITH s, old, old_sha256, d
CALL (d) {
    MATCH (stale:Chunk)-[:PART_OF]->(d)
    DETACH DELETE stale
}
CALL (d) {
""" + CHUNKS_CREATED + """
}
""" + LINK_VERSION

# The raw objects of the versions a source was written with; for a source written before they were kept,
# its current version's, where the gateway put it.
SOURCE_OBJECTS = """
MATCH (s:Source {tenant: $tenant, collection: $collection, path: $path})
RETURN coalesce(s.object_keys, ['batches/' + s.batch_id + '/' + s.document_id]) AS keys
"""

# A source deleted: locked, unlinked and gone, in the transaction that then removes its version if orphaned.
DELETE_SOURCE = """
MATCH (s:Source {tenant: $tenant, collection: $collection, path: $path})
SET s.locked_at = datetime()
WITH s
OPTIONAL MATCH (s)-[:CURRENT]->(d:Document)
WITH s, d.sha256 AS sha256
DETACH DELETE s
RETURN sha256
"""

REMOVE_IF_ORPHANED = """
OPTIONAL MATCH (old:Document {tenant: $tenant, sha256: $sha256})
WITH old
""" + ORPHANED_VERSION + """
RETURN old IS NULL OR old_orphaned AS document_deleted
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


async def _write_version(tx: AsyncManagedTransaction, parameters: dict[str, Any]) -> SourceWrite:
    await (await tx.run(LOCK_SOURCE, parameters)).consume()
    written = await (await tx.run(WRITE_DOCUMENT, parameters)).single(strict=True)
    return SourceWrite(written["change"], written["replaced_sha256"], written["old_orphaned"])


async def _delete_source(tx: AsyncManagedTransaction, tenant: str, collection: str, path: str,
                         sha256: str, retire_id: str) -> SourceRemoval:
    deleted = await (await tx.run(DELETE_SOURCE, tenant=tenant, collection=collection, path=path)).single()
    removed_sha256 = deleted["sha256"] if deleted is not None else None
    orphan = await (await tx.run(REMOVE_IF_ORPHANED, tenant=tenant, sha256=removed_sha256 or sha256,
                                 retire_id=retire_id)).single(strict=True)
    return SourceRemoval(deleted is not None, removed_sha256 or sha256, orphan["document_deleted"])


def version_parameters(ref: DocumentRef, batch_id: str, metadata: DocumentMetadata, parsed: ParsedDocument,
                       tenant: str) -> dict[str, Any]:
    """The parameters of a version's write, but its chunks."""
    return {
        "tenant": tenant,
        "collection": ref.collection,
        "path": ref.source_path,
        "sha256": ref.sha256,
        "key": ref.key,
        "document_id": str(ref.document_id),
        "batch_id": batch_id,
        "properties": document_properties(ref, metadata, parsed),
        "authors": [metadata.author] if metadata.author else [],
        "departments": [metadata.department] if metadata.department else [],
        "tags": metadata.tags,
        "categories": [metadata.category] if metadata.category else [],
        "retire_id": str(uuid4()),
    }


def _text_bytes(chunks: Sequence[Chunk]) -> int:
    return sum(len(chunk.text.encode()) for chunk in chunks)


class KnowledgeGraph:
    """`staged`: writes documents whose chunk text passes `large_document_bytes` in bounded transactions."""

    def __init__(self, driver: AsyncDriver, database: str = "neo4j", cancellation_max_age_seconds: float = 1.0,
                 staged: "StagedWriter | None" = None, large_document_bytes: int = 16 << 20):
        self.driver = driver
        self.database = database
        self.staged = staged
        self.large_document_bytes = large_document_bytes
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
        for statement in (*MIGRATIONS, *SCHEMA):
            async with graph_errors():
                await self.driver.execute_query(statement, database_=self.database)
        if self.staged is not None:
            await self.staged.ensure_schema()

    async def current_version(self, ref: DocumentRef, tenant: str = DEFAULT_TENANT) -> CurrentVersion | None:
        async with graph_errors():
            records, _, _ = await self.driver.execute_query(
                CURRENT_VERSION, tenant=tenant, collection=ref.collection, path=ref.source_path,
                database_=self.database,
            )
        if not records:
            return None
        found = records[0]
        return CurrentVersion(
            sha256=found["sha256"], document_id=found["document_id"],
            write=SourceWrite(found["change"], found["replaced_sha256"], found["replaced_document_deleted"]),
            figures=Figures(found["detected_type"], found["pages"], found["chunks"], found["characters"]),
        )

    async def write_document(
        self, ref: DocumentRef, batch_id: str, metadata: DocumentMetadata, parsed: ParsedDocument,
        chunks: Sequence[Chunk] | Spool, tenant: str = DEFAULT_TENANT,
    ) -> SourceWrite:
        """One transaction: the document, its chunks in order, its metadata nodes, its source pointed at it,
        and the version that replaced, gone if nothing else has it. Idempotent. A large document (a spool, or
        chunks past large_document_bytes) is written staged instead, in bounded transactions (staged_writes)."""
        parameters = version_parameters(ref, batch_id, metadata, parsed, tenant)
        if self.staged is not None and (isinstance(chunks, Spool) or _text_bytes(chunks) > self.large_document_bytes):
            return await self.staged.write(parameters, chunks)
        if isinstance(chunks, Spool):
            raise TypeError("a spooled document needs a staged writer")
        parameters["chunks"] = [chunk_row(c) for c in chunks]
        async with graph_errors(), self.driver.session(database=self.database) as session:
            written = await session.execute_write(_write_version, parameters)
        await self._remove_retired(written.replaced_document_deleted, parameters["retire_id"])
        return written

    async def _remove_retired(self, orphaned: bool, retire_id: str) -> None:
        """A large version the write or deletion left to no source, removed in bounded transactions."""
        if orphaned and self.staged is not None:
            await self.staged.remove_retired(retire_id)

    async def source_objects(self, collection: str, path: str, tenant: str = DEFAULT_TENANT) -> list[str]:
        async with graph_errors():
            records, _, _ = await self.driver.execute_query(
                SOURCE_OBJECTS, tenant=tenant, collection=collection, path=path, database_=self.database,
            )
        return [str(key) for key in records[0]["keys"]] if records else []

    async def delete_source(self, collection: str, path: str, sha256: str,
                            tenant: str = DEFAULT_TENANT) -> SourceRemoval:
        """One transaction: the source gone, and its version with it if no other source of its tenant has it."""
        retire_id = str(uuid4())
        async with graph_errors(), self.driver.session(database=self.database) as session:
            removal = await session.execute_write(_delete_source, tenant, collection, path, sha256, retire_id)
        await self._remove_retired(removal.document_deleted, retire_id)
        return removal

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
