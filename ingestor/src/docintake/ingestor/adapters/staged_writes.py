"""A large document written in bounded transactions: its chunks staged under a `:StagedDocument` (which readers,
who find a document's chunks through `(:Chunk)-[:PART_OF]->(:Document)` and its source's version through
`(:Source)-[:CURRENT]->(:Document)`, never see), a transaction per record of at most the staged transaction's bytes;
then made current in one small switch that relabels the staged node `:Document` and points the source at it. The
version it replaces, and any large version no source has any more, is relabelled `:RetiredDocument` in the
transaction that unlinks it and removed afterwards in bounded transactions.

A staged copy is its writer's (the upload's document id): a redelivery of the same upload clears what its crashed
try left and stages again; another upload of the same content waits for it, or takes a copy untouched for longer
than the lease over. What a writer that never came back left (staged or retired) is removed by the next large write.

Every call of the driver is inside graph_errors(): what leaves is GraphUnavailable or GraphRefused.
"""

import asyncio
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

from neo4j import AsyncDriver, AsyncManagedTransaction

from docintake.ingestor.adapters.knowledge_graph import CHUNKS_CREATED, LINK_VERSION, LOCK_SOURCES, VERSION_REMOVED
from docintake.ingestor.adapters.spool import ChunkRow, SpoolReader, batched
from docintake.ingestor.domain.document import Chunk, Spool
from docintake.ingestor.domain.versions import SourceWrite
from docintake.platform.errors import GraphUnavailable
from docintake.platform.graphdb import graph_errors
from docintake.platform.logging import get_logger

log = get_logger(__name__)

SCHEMA = (
    "CREATE CONSTRAINT tenant_staged_document IF NOT EXISTS "
    "FOR (s:StagedDocument) REQUIRE (s.tenant, s.sha256) IS UNIQUE",
    "CREATE INDEX staged_document_touched IF NOT EXISTS FOR (s:StagedDocument) ON (s.touched_at)",
    "CREATE INDEX retired_document_id IF NOT EXISTS FOR (r:RetiredDocument) ON (r.retired_id)",
    "CREATE INDEX retired_document_touched IF NOT EXISTS FOR (r:RetiredDocument) ON (r.touched_at)",
)

# Whether the content is in the graph whole already (another source has it): then nothing is staged.
DOCUMENT_EXISTS = """
MATCH (d:Document {tenant: $tenant, sha256: $sha256})
RETURN count(d) > 0 AS exists
"""

# The staged copy claimed for the writer: its own (a try of the same upload again), a new one, or another
# writer's untouched for longer than the lease. `leftover`: chunks an earlier try staged, to clear first.
CLAIM = """
MERGE (s:StagedDocument {tenant: $tenant, sha256: $sha256})
ON CREATE SET s.writer = $writer, s.touched_at = datetime(), s.staged_at = datetime()
WITH s, s.writer = $writer OR s.touched_at < datetime() - duration({seconds: $lease_seconds}) AS ours
CALL (s, ours) {
    WITH s WHERE ours
    SET s.writer = $writer, s.touched_at = datetime()
}
RETURN ours, s.writer AS writer, COUNT { (s)<-[:PART_OF]-() } > 0 AS leftover
"""

# The staged copy an earlier try of the writer left, retired under $retire_id (to be removed), so that the try
# stages afresh.
RETIRE_LEFTOVER = """
MATCH (s:StagedDocument {tenant: $tenant, sha256: $sha256})
WHERE s.writer = $writer
REMOVE s:StagedDocument
SET s:RetiredDocument, s.retired_id = $retire_id, s.touched_at = datetime()
"""

# A record of chunks staged, linked in order and to the last chunk of the record before; none if the copy is
# no longer the writer's (taken over), which `staged` then says.
STAGE = """
WITH $document AS doc
MATCH (d:StagedDocument {tenant: doc.tenant, sha256: doc.sha256})
WHERE d.writer = $writer
SET d.touched_at = datetime()
WITH doc, d
CALL (d, doc) {
""" + CHUNKS_CREATED + """
    WITH doc, chunks[0] AS first
    OPTIONAL MATCH (last:Chunk {tenant: doc.tenant, document_sha256: doc.sha256, index: first.index - 1})
                   -[:PART_OF]->(d)
    FOREACH (previous IN CASE WHEN last IS NULL THEN [] ELSE [last] END | CREATE (previous)-[:NEXT]->(first))
}
RETURN count(d) > 0 AS staged
"""

# The switch, after LOCK_SOURCE in one transaction: the staged copy becomes the :Document (or, if the content
# came whole meanwhile, the one there is is taken and the copy retired), with its properties and metadata links;
# the source pointed at it; the version it replaced unlinked, and retired or removed if no source has it (LINK_VERSION).
# No row: neither a staged copy of the writer nor the content is there (a takeover); tried again later.
SWITCH = """
WITH $document AS doc
MATCH (s:Source {tenant: doc.tenant, collection: doc.collection, path: doc.path})
OPTIONAL MATCH (s)-[:CURRENT]->(old:Document)
WITH doc, s, old, old.sha256 AS old_sha256
OPTIONAL MATCH (existing:Document {tenant: doc.tenant, sha256: doc.sha256})
OPTIONAL MATCH (copy:StagedDocument {tenant: doc.tenant, sha256: doc.sha256})
WITH doc, s, old, old_sha256, existing, CASE WHEN copy.writer = doc.writer THEN copy END AS copy
WHERE existing IS NOT NULL OR copy IS NOT NULL
CALL (existing, copy) {
    WITH copy WHERE copy IS NOT NULL AND existing IS NULL
    REMOVE copy:StagedDocument
    SET copy:Document, copy.staged = true, copy.first_ingested_at = datetime()
    REMOVE copy.writer, copy.touched_at
}
CALL (existing, copy, doc) {
    WITH copy, doc WHERE copy IS NOT NULL AND existing IS NOT NULL
    REMOVE copy:StagedDocument
    SET copy:RetiredDocument, copy.retired_id = doc.retire_id, copy.touched_at = datetime()
}
WITH doc, s, old, old_sha256, coalesce(existing, copy) AS d
""" + LINK_VERSION

# At most $limit chunks of retired versions gone; the number gone.
REMOVE_RETIRED_CHUNKS = """
MATCH (r:RetiredDocument {retired_id: $retired_id})
SET r.touched_at = datetime()
WITH r
CALL (r) {
    MATCH (c:Chunk)-[:PART_OF]->(r)
    WITH c LIMIT $limit
    DETACH DELETE c
    RETURN count(c) AS removed
}
RETURN sum(removed) AS removed
"""

# The retired versions, their chunks gone, gone too, with the metadata nodes nothing else links.
REMOVE_RETIRED = """
MATCH (old:RetiredDocument {retired_id: $retired_id})
""" + VERSION_REMOVED + "\n"

# Staged copies and retired versions untouched for longer than the lease (their writer gone), retired under a new
# id for this writer to remove; the ids.
ABANDONED = """
CALL () {
    MATCH (s:StagedDocument) WHERE s.touched_at < datetime() - duration({seconds: $lease_seconds})
    WITH s LIMIT 10
    REMOVE s:StagedDocument
    SET s:RetiredDocument, s.retired_id = randomUUID(), s.touched_at = datetime()
    RETURN s.retired_id AS retired_id
    UNION
    MATCH (r:RetiredDocument) WHERE r.touched_at < datetime() - duration({seconds: $lease_seconds})
    WITH r LIMIT 10
    SET r.retired_id = randomUUID(), r.touched_at = datetime()
    RETURN r.retired_id AS retired_id
}
RETURN collect(retired_id) AS retired_ids
"""


async def _switch(tx: AsyncManagedTransaction, document: dict[str, Any]) -> SourceWrite | None:
    await (await tx.run(LOCK_SOURCES, documents=[document])).consume()
    switched = await (await tx.run(SWITCH, document=document)).single()
    if switched is None:
        return None
    return SourceWrite(switched["change"], switched["replaced_sha256"], switched["old_orphaned"])


@contextmanager
def _records(chunks: Sequence[Chunk] | Spool, transaction_bytes: int) -> Iterator[Callable[[], list[ChunkRow] | None]]:
    """A call that gives the next record of chunks, None once there are no more (run off the event loop)."""
    if not isinstance(chunks, Spool):
        records = batched(chunks, transaction_bytes)
        yield lambda: next(records, None)
        return
    reader = SpoolReader(Path(chunks.path))
    try:
        yield reader.next_batch
    finally:
        reader.close()


class StagedWriter:
    """`transaction_bytes`: the chunk text a transaction stages at most; `lease_seconds`: how long a staged copy
    untouched stays its writer's; `removal_chunks`: the chunks a transaction removes at most."""

    def __init__(self, driver: AsyncDriver, database: str = "neo4j", transaction_bytes: int = 8 << 20,
                 lease_seconds: float = 300.0, removal_chunks: int = 5000):
        self.driver = driver
        self.database = database
        self.transaction_bytes = transaction_bytes
        self.lease_seconds = lease_seconds
        self.removal_chunks = removal_chunks

    async def ensure_schema(self) -> None:
        for statement in SCHEMA:
            await self._run(statement)

    async def _run(self, statement: str, **parameters: Any) -> list[dict[str, Any]]:
        async with graph_errors():
            records, _, _ = await self.driver.execute_query(statement, parameters, database_=self.database)
        return [record.data() for record in records]

    async def write(self, parameters: dict[str, Any], chunks: Sequence[Chunk] | Spool) -> SourceWrite:
        """The version of `parameters` (as KnowledgeGraph.write_document makes them, without chunks) staged from
        `chunks` unless its content is there whole already, then switched to; what it replaced removed."""
        await self.remove_abandoned()
        tenant, sha256, writer = parameters["tenant"], parameters["sha256"], parameters["document_id"]
        [found] = await self._run(DOCUMENT_EXISTS, tenant=tenant, sha256=sha256)
        if not found["exists"]:
            await self._stage(tenant, sha256, writer, chunks)
        retire_id = str(uuid4())
        async with graph_errors(), self.driver.session(database=self.database) as session:
            written = await session.execute_write(_switch, {**parameters, "writer": writer, "retire_id": retire_id})
        if written is None:
            raise GraphUnavailable("Neo4j unavailable: the staged copy of this large document was taken over by "
                                   "another writer before it was made current; it is written again")
        await self.remove_retired(retire_id)
        return written

    async def _stage(self, tenant: str, sha256: str, writer: str, chunks: Sequence[Chunk] | Spool) -> None:
        [claim] = await self._run(CLAIM, tenant=tenant, sha256=sha256, writer=writer, lease_seconds=self.lease_seconds)
        if not claim["ours"]:
            raise GraphUnavailable("Neo4j unavailable: another upload of this content is being written into the "
                                   "graph now; this one is tried again later")
        if claim["leftover"]:
            log.info("removing what an earlier try staged", sha256=sha256)
            retire_id = str(uuid4())
            await self._run(RETIRE_LEFTOVER, tenant=tenant, sha256=sha256, writer=writer, retire_id=retire_id)
            await self.remove_retired(retire_id)
            await self._stage(tenant, sha256, writer, chunks)
            return
        staged = 0
        with _records(chunks, self.transaction_bytes) as next_record:
            while (record := await asyncio.to_thread(next_record)) is not None:
                [result] = await self._run(STAGE, document={"tenant": tenant, "sha256": sha256, "chunks": record},
                                           writer=writer)
                if not result["staged"]:
                    raise GraphUnavailable("Neo4j unavailable: the staged copy of this large document was taken "
                                           "over by another writer; it is written again")
                staged += len(record)
        log.info("large document staged", sha256=sha256, chunks=staged)

    async def remove_retired(self, retired_id: str) -> None:
        """The retired versions of `retired_id` removed, chunks first, a bounded transaction at a time."""
        while True:
            [removed] = await self._run(REMOVE_RETIRED_CHUNKS, retired_id=retired_id, limit=self.removal_chunks)
            if (removed["removed"] or 0) < self.removal_chunks:
                break
        await self._run(REMOVE_RETIRED, retired_id=retired_id)

    async def remove_abandoned(self) -> None:
        """What writers that never came back left, removed."""
        [abandoned] = await self._run(ABANDONED, lease_seconds=self.lease_seconds)
        for retired_id in abandoned["retired_ids"]:
            log.info("removing what an abandoned large write left", retired_id=retired_id)
            await self.remove_retired(retired_id)
