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

from neo4j import AsyncDriver, AsyncManagedTransaction, Record

from docintake.contracts.events import DEFAULT_TENANT, DocumentRef
from docintake.contracts.metadata import DocumentMetadata
from docintake.ingestor.adapters.spool import chunk_row
from docintake.ingestor.domain.document import Chunk, ParsedDocument, Spool
from docintake.ingestor.domain.removals import SourceRemoval
from docintake.ingestor.domain.versions import CurrentVersion, Figures, SourceWrite
from docintake.platform.errors import GraphRefused, GraphUnavailable
from docintake.platform.graphdb import graph_errors
from docintake.platform.group_commit import GroupCommit
from docintake.platform.logging import get_logger

if TYPE_CHECKING:
    from docintake.ingestor.adapters.staged_writes import StagedWriter

log = get_logger(__name__)

# Everything is its tenant's: a tenant's documents, sources, chunks and metadata nodes are keyed within it,
# so that two tenants' identical files or same-named authors never share a node.
# Before tenants, keys were global: those constraints go, and what was written then is the default tenant's.
# Each migration runs once on a graph: its (:Migration {name}) node says it ran.
MIGRATIONS = {
    "tenants": (
        *(f"DROP CONSTRAINT {name} IF EXISTS" for name in (
            "document_sha256", "source_path", "author_name", "department_name", "tag_name", "category_name")),
        "DROP INDEX chunk_position IF EXISTS",
        *(f"MATCH (n:{label}) WHERE n.tenant IS NULL SET n.tenant = '{DEFAULT_TENANT}'"
          for label in ("Document", "Source", "Chunk", "Author", "Department", "Tag", "Category")),
    ),
}
MIGRATION_RAN = "MATCH (m:Migration {name: $name}) RETURN count(m) > 0 AS ran"
MIGRATION_DONE = "MERGE (m:Migration {name: $name}) ON CREATE SET m.at = datetime()"
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
    "CREATE CONSTRAINT migration_name IF NOT EXISTS FOR (m:Migration) REQUIRE m.name IS UNIQUE",
)

# The current version of each source asked for (a null sha256 where it has none), by its position in $sources.
CURRENT_VERSIONS = """
UNWIND range(0, size($sources) - 1) AS position
WITH position, $sources[position] AS source
OPTIONAL MATCH (s:Source {tenant: source.tenant, collection: source.collection, path: source.path})
               -[:CURRENT]->(d:Document)
RETURN position, d.sha256 AS sha256, s.document_id AS document_id, s.change AS change,
       s.replaced_sha256 AS replaced_sha256, coalesce(s.replaced_document_deleted, false) AS replaced_document_deleted,
       d.detected_type AS detected_type, d.pages AS pages, d.characters AS characters,
       COUNT { (:Chunk)-[:PART_OF]->(d) } AS chunks
"""

# First in the transaction that writes versions: their sources, locked (a property set takes its write
# lock, and the uniqueness constraint makes concurrent MERGEs of it one node), so that two writers of
# one source take turns and each reads the version the other committed.
LOCK_SOURCES = """
UNWIND $documents AS doc
MERGE (s:Source {tenant: doc.tenant, collection: doc.collection, path: doc.path})
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
# source both end with it. A large version (written staged) is not removed here but retired under
# doc.retire_id, for staged_writes to remove in bounded transactions once this one committed.
ORPHANED_VERSION = """
CALL (old) {
    WITH old WHERE old IS NOT NULL
    SET old.unlinked_at = datetime()
}
WITH *, old IS NOT NULL AND NOT EXISTS { (:Source)-[:CURRENT]->(old) } AS old_orphaned
CALL (old, old_orphaned, doc) {
    WITH old, doc WHERE old_orphaned AND old.staged
    REMOVE old:Document
    SET old:RetiredDocument, old.retired_id = doc.retire_id, old.touched_at = datetime()
}
CALL (old, old_orphaned) {
    WITH old WHERE old_orphaned AND old.staged IS NULL
""" + VERSION_REMOVED + """
}
"""

# The chunks of doc.chunks created, part of `d`, linked in their order; then `doc` and `chunks`, in their order.
CHUNKS_CREATED = """
UNWIND doc.chunks AS chunk
CREATE (c:Chunk {tenant: doc.tenant, document_sha256: doc.sha256, index: chunk.index, text: chunk.text})
SET c.page = chunk.page, c.heading = chunk.heading, c.heading_path = chunk.heading_path
CREATE (c)-[:PART_OF]->(d)
WITH doc, c ORDER BY c.index
WITH doc, collect(c) AS chunks
CALL (chunks) {
    UNWIND range(0, size(chunks) - 2) AS i
    WITH chunks[i] AS this, chunks[i + 1] AS next
    CREATE (this)-[:NEXT]->(next)
}
"""

# The end of a version's write, with `doc` (its row: version_parameters), `s` (its source, locked), `old` (the
# version it has now), `old_sha256` and `d` (the document, its chunks written): its properties and metadata links;
# the source pointed at it; and the version it replaced, with its chunks and the metadata nodes nothing else
# links, gone once no source points at it.
LINK_VERSION = """
SET d += doc.properties,
    d.last_ingested_at = datetime(),
    d.document_ids = CASE WHEN doc.document_id IN coalesce(d.document_ids, []) THEN d.document_ids
                          ELSE coalesce(d.document_ids, []) + doc.document_id END,
    d.batch_ids = CASE WHEN doc.batch_id IN coalesce(d.batch_ids, []) THEN d.batch_ids
                       ELSE coalesce(d.batch_ids, []) + doc.batch_id END
FOREACH (name IN doc.authors | MERGE (n:Author {tenant: doc.tenant, name: name}) MERGE (d)-[:AUTHORED_BY]->(n))
FOREACH (name IN doc.departments |
         MERGE (n:Department {tenant: doc.tenant, name: name}) MERGE (d)-[:BELONGS_TO]->(n))
FOREACH (name IN doc.tags | MERGE (n:Tag {tenant: doc.tenant, name: name}) MERGE (d)-[:TAGGED]->(n))
FOREACH (name IN doc.categories |
         MERGE (n:Category {tenant: doc.tenant, name: name}) MERGE (d)-[:IN_CATEGORY]->(n))
WITH doc, s, old, old_sha256, d,
     CASE WHEN old IS NULL THEN 'added' WHEN old_sha256 = doc.sha256 THEN 'unchanged' ELSE 'replaced' END AS change
CALL (s, old, d, change, doc) {
    WITH s, old, d, change, doc WHERE change <> 'unchanged'
    OPTIONAL MATCH (s)-[current:CURRENT]->(old)
    DELETE current
    CREATE (s)-[:CURRENT]->(d)
    SET s.document_id = doc.document_id, s.batch_id = doc.batch_id, s.change = change,
        s.replaced_sha256 = old.sha256, s.updated_at = datetime(),
        s.object_keys = CASE WHEN doc.key IN coalesce(s.object_keys, []) THEN s.object_keys
                             ELSE coalesce(s.object_keys, []) + doc.key END
}
WITH doc, s, old, old_sha256, change
""" + ORPHANED_VERSION + """
SET s.replaced_document_deleted = CASE WHEN change = 'unchanged' THEN s.replaced_document_deleted ELSE old_orphaned END
RETURN change, CASE WHEN change = 'replaced' THEN old_sha256 END AS replaced_sha256, old_orphaned
"""

# Then, in one statement, for each document: the document, its chunks replaced in order, and LINK_VERSION.
WRITE_DOCUMENTS = """
UNWIND $documents AS doc
CALL (doc) {
    MATCH (s:Source {tenant: doc.tenant, collection: doc.collection, path: doc.path})
    OPTIONAL MATCH (s)-[:CURRENT]->(old:Document)
    WITH doc, s, old, old.sha256 AS old_sha256
    MERGE (d:Document {tenant: doc.tenant, sha256: doc.sha256})
    ON CREATE SET d.first_ingested_at = datetime()
    WITH doc, s, old, old_sha256, d
    CALL (d) {
        MATCH (stale:Chunk)-[:PART_OF]->(d)
        DETACH DELETE stale
    }
    CALL (d, doc) {
""" + CHUNKS_CREATED + """
    }
""" + LINK_VERSION + """
}
RETURN change, replaced_sha256, old_orphaned
"""

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

# `doc`: the tenant, the sha256 and the retire_id.
REMOVE_IF_ORPHANED = """
WITH $document AS doc
OPTIONAL MATCH (old:Document {tenant: doc.tenant, sha256: doc.sha256})
WITH doc, old
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


def version_parameters(ref: DocumentRef, batch_id: str, metadata: DocumentMetadata, parsed: ParsedDocument,
                       tenant: str = DEFAULT_TENANT) -> dict[str, Any]:
    """One document's row of WRITE_DOCUMENTS (its `chunks` apart), or of the staged writer's switch."""
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


def _rounds(documents: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The documents in statements of their own where two share a source or a content: in one statement
    each row would read the graph as it was before the other's."""
    rounds: list[list[dict[str, Any]]] = []
    taken: list[set[tuple[str, ...]]] = []
    for document in documents:
        tenant = document["tenant"]
        keys = {(tenant, document["collection"], document["path"]), (tenant, document["sha256"])}
        free = next((n for n, round_keys in enumerate(taken) if not keys & round_keys), None)
        if free is None:
            rounds.append([])
            taken.append(set())
            free = len(rounds) - 1
        rounds[free].append(document)
        taken[free] |= keys
    return rounds


async def _write_versions(tx: AsyncManagedTransaction, documents: Sequence[dict[str, Any]]) -> list[SourceWrite]:
    written: dict[int, SourceWrite] = {}
    # Sources locked in one order by every writer, so that two transactions of crossing sources take turns.
    in_lock_order = sorted(documents, key=lambda document: (document["tenant"], document["collection"],
                                                             document["path"]))
    await (await tx.run(LOCK_SOURCES, documents=in_lock_order)).consume()
    for documents_of_round in _rounds(documents):
        result = await tx.run(WRITE_DOCUMENTS, documents=documents_of_round)
        for document, record in zip(documents_of_round, [record async for record in result], strict=True):
            written[id(document)] = SourceWrite(record["change"], record["replaced_sha256"], record["old_orphaned"])
    return [written[id(document)] for document in documents]


async def _delete_source(tx: AsyncManagedTransaction, tenant: str, collection: str, path: str,
                         sha256: str, retire_id: str) -> SourceRemoval:
    deleted = await (await tx.run(DELETE_SOURCE, tenant=tenant, collection=collection, path=path)).single()
    removed_sha256 = deleted["sha256"] if deleted is not None else None
    document = {"tenant": tenant, "sha256": removed_sha256 or sha256, "retire_id": retire_id}
    orphan = await (await tx.run(REMOVE_IF_ORPHANED, document=document)).single(strict=True)
    return SourceRemoval(deleted is not None, removed_sha256 or sha256, orphan["document_deleted"])


def _current_version(found: Record) -> CurrentVersion | None:
    if found["sha256"] is None:
        return None
    return CurrentVersion(
        sha256=found["sha256"], document_id=found["document_id"],
        write=SourceWrite(found["change"], found["replaced_sha256"], found["replaced_document_deleted"]),
        figures=Figures(found["detected_type"], found["pages"], found["chunks"], found["characters"]),
    )


class KnowledgeGraph:
    """`staged`: writes documents whose chunk text passes `large_document_bytes` in bounded transactions."""

    def __init__(self, driver: AsyncDriver, database: str = "neo4j", cancellation_max_age_seconds: float = 1.0,
                 write_batch_size: int = 50, staged: "StagedWriter | None" = None,
                 large_document_bytes: int = 16 << 20):
        self.driver = driver
        self.database = database
        self.staged = staged
        self.large_document_bytes = large_document_bytes
        # Documents written together while a write is under way, up to write_batch_size in one transaction;
        # the sources' current versions asked for the same way.
        self._writes = GroupCommit(self.write_documents, write_batch_size)
        self._reads = GroupCommit(self.current_versions, write_batch_size)
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
        async with graph_errors():
            for statement in SCHEMA:
                await self.driver.execute_query(statement, database_=self.database)
            for name, statements in MIGRATIONS.items():
                records, _, _ = await self.driver.execute_query(MIGRATION_RAN, name=name, database_=self.database)
                if records[0]["ran"]:
                    continue
                log.info("migrating the graph", migration=name)
                for statement in statements:
                    await self.driver.execute_query(statement, database_=self.database)
                await self.driver.execute_query(MIGRATION_DONE, name=name, database_=self.database)
        if self.staged is not None:
            await self.staged.ensure_schema()

    async def current_version(self, ref: DocumentRef, tenant: str = DEFAULT_TENANT) -> CurrentVersion | None:
        """Asked together with the sources asked at the same time, in one query."""
        return await self._reads.apply({"tenant": tenant, "collection": ref.collection, "path": ref.source_path})

    async def current_versions(self, sources: Sequence[dict[str, str]]) -> list[CurrentVersion | None]:
        """The current version of each source (tenant, collection, path), None for one it does not have."""
        async with graph_errors():
            records, _, _ = await self.driver.execute_query(CURRENT_VERSIONS, sources=list(sources),
                                                            database_=self.database)
        found = {record["position"]: record for record in records}
        return [_current_version(found[position]) for position in range(len(sources))]

    async def write_document(
        self, ref: DocumentRef, batch_id: str, metadata: DocumentMetadata, parsed: ParsedDocument,
        chunks: Sequence[Chunk] | Spool, tenant: str = DEFAULT_TENANT,
    ) -> SourceWrite:
        """The document, its chunks in order, its metadata nodes, its source pointed at it, and the version that
        replaced, gone if nothing else has it; committed with the documents written at the same time, in one
        transaction. Idempotent. A large document (a spool, or chunks past large_document_bytes) is written staged
        instead, in bounded transactions (staged_writes)."""
        parameters = version_parameters(ref, batch_id, metadata, parsed, tenant)
        if self.staged is not None and (isinstance(chunks, Spool) or _text_bytes(chunks) > self.large_document_bytes):
            return await self.staged.write(parameters, chunks)
        if isinstance(chunks, Spool):
            raise TypeError("a spooled document needs a staged writer")
        written = await self._writes.apply({**parameters, "chunks": [chunk_row(c) for c in chunks]})
        await self._remove_retired(written.replaced_document_deleted, parameters["retire_id"])
        return written

    async def write_documents(self, documents: Sequence[dict[str, Any]]) -> list[SourceWrite]:
        """The documents (version_parameters with their chunks) in one transaction, each as write_document does."""
        async with graph_errors(), self.driver.session(database=self.database) as session:
            return await session.execute_write(_write_versions, documents)

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
