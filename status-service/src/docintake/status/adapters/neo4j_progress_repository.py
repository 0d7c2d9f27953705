"""The progress store: batches and their documents in Neo4j, each change one write transaction.

Progress records live under their own labels (:IngestBatch)-[:HAS_ITEM]->(:IngestItem), and
(:IngestEvent {event_id}) remembers which events were applied; the knowledge graph's labels are
never touched. A change locks its batch node first, so changes of one batch apply one after the
other while different batches proceed in parallel, and writes only the items it changed.

Each change stores a new version token on the batch node, and the process keeps the record it
committed last, per batch: a change that finds the token it stored itself goes on from that record
instead of reading every item back. Any other writer (another replica) leaves another token, and
the record is read again.

A record that does not load back is quarantined: labelled and given the reason, kept for an operator,
left out of every list and chore, and refused (UnreadableRecord) to whoever asks for it by its id.
"""

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from neo4j import AsyncManagedTransaction, RoutingControl

from docintake.contracts.api import TERMINAL_STATES, BatchState
from docintake.platform.graphdb import GraphStore
from docintake.platform.logging import get_logger
from docintake.status.adapters.neo4j_progress_records import (
    QUARANTINED,
    QUARANTINED_DETAIL,
    QUARANTINED_REASON,
    batch_properties,
    item_properties,
    load_batch,
    stored_time,
)
from docintake.status.domain.paging import PageMark
from docintake.status.domain.progress import UNFINISHED_STATES, Batch
from docintake.status.domain.refusals import BatchNotFound, UnreadableRecord
from docintake.status.service_layer.ports import Change

T = TypeVar("T")
log = get_logger(__name__)

# Records kept in the process between changes, the ones changed most recently.
REMEMBERED_RECORDS = 128

# Deadlocks and leader switches are retried inside the driver for this long; beyond it the
# caller decides (the projection tries again with its own backoff).
TRANSACTION_RETRY_SECONDS = 5.0
# How much of the error that made a record unreadable is kept with it.
QUARANTINED_DETAIL_CHARACTERS = 2000

SCHEMA = (
    "CREATE CONSTRAINT ingest_batch_id IF NOT EXISTS FOR (b:IngestBatch) REQUIRE b.batch_id IS UNIQUE",
    "CREATE CONSTRAINT ingest_item_id IF NOT EXISTS FOR (i:IngestItem) REQUIRE i.document_id IS UNIQUE",
    "CREATE CONSTRAINT ingest_event_id IF NOT EXISTS FOR (e:IngestEvent) REQUIRE e.event_id IS UNIQUE",
    "CREATE INDEX ingest_event_applied_at IF NOT EXISTS FOR (e:IngestEvent) ON (e.applied_at)",
    "CREATE INDEX ingest_batch_status IF NOT EXISTS FOR (b:IngestBatch) ON (b.status)",
    "CREATE INDEX ingest_batch_created_at IF NOT EXISTS FOR (b:IngestBatch) ON (b.created_at)",
    "CREATE INDEX ingest_item_state IF NOT EXISTS FOR (i:IngestItem) ON (i.state)",
    "CREATE INDEX ingest_batch_tenant_status IF NOT EXISTS FOR (b:IngestBatch) ON (b.tenant, b.status)",
    "CREATE INDEX ingest_batch_tenant_created_at IF NOT EXISTS FOR (b:IngestBatch) ON (b.tenant, b.created_at)",
)

_WITH_ITEMS = """
OPTIONAL MATCH (b)-[:HAS_ITEM]->(i:IngestItem)
RETURN b {.*} AS batch, collect(i {.*}) AS items
"""
_GET = "MATCH (b:IngestBatch {batch_id: $batch_id})" + _WITH_ITEMS
# Writing to the batch node takes its write lock, held until commit; the property set and removed
# again is only the means. (Incrementing a counter instead, which reads the node first, deadlocks
# with a transaction that adds an item to the batch.)
_LOCK = f" SET b._lock = true REMOVE b._lock RETURN b.version AS version, b.{QUARANTINED_REASON} IS NULL AS readable"
_LOCK_EXISTING = "MATCH (b:IngestBatch {batch_id: $batch_id})" + _LOCK
_LOCK_OR_CREATE = "MERGE (b:IngestBatch {batch_id: $batch_id})" + _LOCK
# Whoever creates the marker owns the event; a second claim finds the first one's token.
_CLAIM_EVENTS = """
UNWIND $event_ids AS event_id
MERGE (e:IngestEvent {event_id: event_id})
ON CREATE SET e.batch_id = $batch_id, e.claim = $claim, e.applied_at = datetime()
WITH e WHERE e.claim = $claim
RETURN collect(DISTINCT e.event_id) AS claimed
"""
_SAVE = """
MATCH (b:IngestBatch {batch_id: $batch_id})
SET b += $batch, b.version = $version
WITH b
UNWIND $items AS item
MERGE (i:IngestItem {document_id: item.document_id})
SET i += item.properties
MERGE (b)-[:HAS_ITEM]->(i)
"""
_PAGE = f"""
MATCH (b:IngestBatch)
WHERE b.created_at IS NOT NULL AND b.batch_id IS NOT NULL AND NOT b:{QUARANTINED}
  AND ($status IS NULL OR b.status = $status)
  AND ($tenant IS NULL OR coalesce(b.tenant, 'default') = $tenant)
  AND ($after_created_at IS NULL OR b.created_at < $after_created_at
       OR (b.created_at = $after_created_at AND b.batch_id < $after_batch_id))
WITH b ORDER BY b.created_at DESC, b.batch_id DESC LIMIT $limit
OPTIONAL MATCH (b)-[:HAS_ITEM]->(i:IngestItem)
WITH b, collect(i {{.*}}) AS items
ORDER BY b.created_at DESC, b.batch_id DESC
RETURN b {{.*}} AS batch, items
"""
_OF_A_READABLE_BATCH = f"NOT EXISTS {{ (:{QUARANTINED})-[:HAS_ITEM]->(i) }}"
_STALLED = f"""
MATCH (i:IngestItem) WHERE i.state IN $unfinished AND i.progressed_at <= $cutoff AND {_OF_A_READABLE_BATCH}
RETURN DISTINCT i.batch_id AS batch_id
UNION
MATCH (b:IngestBatch) WHERE b.manifest_known = false AND b.updated_at <= $cutoff AND NOT b:{QUARANTINED}
RETURN b.batch_id AS batch_id
"""
_AWAITING_COMPLETION = f"""
MATCH (b:IngestBatch)
WHERE b.status IN $terminal AND b.completion_published = false AND b.updated_at <= $settled_before
  AND NOT b:{QUARANTINED}
RETURN b.batch_id AS batch_id
"""
_PENDING = f"""
MATCH (i:IngestItem) WHERE i.state IN $unfinished AND {_OF_A_READABLE_BATCH}
RETURN coalesce(sum(i.size), 0) AS bytes, count(i) AS documents
"""
_TENANT_TOTALS = f"""
CALL () {{
    MATCH (b:IngestBatch {{tenant: $tenant, status: 'in_progress'}})-[:HAS_ITEM]->(i:IngestItem)
    WHERE i.state IN $unfinished AND NOT b:{QUARANTINED}
    RETURN coalesce(sum(i.size), 0) AS bytes, count(i) AS documents
}}
CALL () {{
    MATCH (b:IngestBatch {{tenant: $tenant}}) WHERE b.created_at >= $since AND NOT b:{QUARANTINED}
    MATCH (b)-[:HAS_ITEM]->(i:IngestItem)
    RETURN coalesce(sum(i.size), 0) AS uploaded
}}
RETURN bytes, documents, uploaded
"""
_PRUNE_APPLIED_EVENTS = """
MATCH (e:IngestEvent) WHERE e.applied_at < $applied_before
WITH e LIMIT $limit
DELETE e
RETURN count(*) AS pruned
"""
_FORGET_FINISHED_BATCHES = f"""
MATCH (b:IngestBatch)
WHERE b.status IN $terminal AND b.completion_published = true AND b.updated_at < $finished_before
  AND NOT b:{QUARANTINED}
WITH b LIMIT $limit
CALL (b) {{ MATCH (b)-[:HAS_ITEM]->(i:IngestItem) DETACH DELETE i }}
DETACH DELETE b
RETURN count(*) AS forgotten
"""
PRUNE_LIMIT = 10_000  # markers deleted per transaction, so that pruning a long backlog stays small
_QUARANTINE = f"""
MATCH (b:IngestBatch {{batch_id: $batch_id}}) WHERE b.{QUARANTINED_REASON} IS NULL
SET b:{QUARANTINED}, b.{QUARANTINED_REASON} = $reason, b.{QUARANTINED_DETAIL} = $detail, b.quarantined_at = datetime()
"""


class Neo4jProgressRepository(GraphStore):
    """The ProgressRepository on Neo4j; the driver's errors leave as GraphUnavailable or GraphRefused."""

    driver_options = {"max_transaction_retry_time": TRANSACTION_RETRY_SECONDS}
    schema = SCHEMA

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # batch id -> (the version token this process stored, the record as committed with it)
        self._committed: dict[UUID, tuple[str, Batch]] = {}

    async def ping(self) -> None:
        async with self._call():
            await self._driver.execute_query("RETURN 1", database_=self._database, routing_=RoutingControl.READ)

    async def get(self, batch_id: UUID) -> Batch | None:
        records = await self._read(_GET, batch_id=str(batch_id))
        return await self._loaded(records[0]) if records else None

    async def apply_once(self, event_ids: Sequence[UUID], batch_id: UUID,
                         change: Callable[[Batch, Collection[UUID]], T]) -> Change[T] | None:
        return await self._change(batch_id, change, event_ids=event_ids, create=True)

    async def update(self, batch_id: UUID, change: Callable[[Batch], T]) -> Change[T]:
        result = await self._change(batch_id, change, event_ids=None, create=False)
        assert result is not None  # only events already applied can come back as None
        return result

    async def page(self, status: BatchState | None, limit: int, after: PageMark | None,
                   tenant: str | None = None) -> list[Batch]:
        while True:
            records = await self._read(
                _PAGE, status=status, limit=limit, tenant=tenant,
                after_created_at=stored_time(after.created_at) if after else None,
                after_batch_id=str(after.batch_id) if after else None,
            )
            try:
                return [await self._loaded(record) for record in records]
            except UnreadableRecord:
                continue  # now quarantined, so the page is read again without it

    async def prune_applied_events(self, applied_before: datetime) -> int:
        pruned = 0
        while True:
            async with self._call():
                result = await self._driver.execute_query(
                    _PRUNE_APPLIED_EVENTS, applied_before=applied_before, limit=PRUNE_LIMIT, database_=self._database)
            pruned += result.records[0]["pruned"]
            if result.records[0]["pruned"] < PRUNE_LIMIT:
                return pruned

    async def forget_finished_batches(self, finished_before: datetime) -> int:
        forgotten = 0
        while True:
            async with self._call():
                result = await self._driver.execute_query(
                    _FORGET_FINISHED_BATCHES, finished_before=stored_time(finished_before),
                    terminal=sorted(TERMINAL_STATES), limit=PRUNE_LIMIT // 100, database_=self._database)
            forgotten += result.records[0]["forgotten"]
            if result.records[0]["forgotten"] < PRUNE_LIMIT // 100:
                return forgotten

    async def stalled_batch_ids(self, cutoff: datetime) -> list[UUID]:
        records = await self._read(_STALLED, cutoff=stored_time(cutoff),
                                   unfinished=[s.value for s in UNFINISHED_STATES])
        return [UUID(record["batch_id"]) for record in records]

    async def batch_ids_awaiting_completion(self, settled_before: datetime) -> list[UUID]:
        records = await self._read(_AWAITING_COMPLETION, settled_before=stored_time(settled_before),
                                   terminal=sorted(TERMINAL_STATES))
        return [UUID(record["batch_id"]) for record in records]

    async def pending_totals(self) -> tuple[int, int]:
        records = await self._read(_PENDING, unfinished=[s.value for s in UNFINISHED_STATES])
        return records[0]["bytes"], records[0]["documents"]

    async def tenant_totals(self, tenant: str, since: datetime) -> tuple[int, int, int]:
        records = await self._read(_TENANT_TOTALS, tenant=tenant, since=stored_time(since),
                                   unfinished=[s.value for s in UNFINISHED_STATES])
        return records[0]["bytes"], records[0]["documents"], records[0]["uploaded"]

    async def _change(self, batch_id: UUID, change: Callable[..., T], *, event_ids: Sequence[UUID] | None,
                      create: bool) -> Change[T] | None:
        version = uuid4().hex

        # The driver may run this again after a transient error: the record it changed is dropped (taken
        # out of the kept ones before), so each run starts from the stored record.
        async def transaction(tx: AsyncManagedTransaction) -> Change[T] | None:
            kept = self._committed.pop(batch_id, None)
            arguments: tuple[object, ...] = ()
            if event_ids is not None:
                claimed = await _claim_events(tx, event_ids, batch_id)
                if not claimed:
                    if kept is not None:
                        self._committed[batch_id] = kept  # nothing changed it
                    return None
                arguments = (claimed,)
            locked = await (await tx.run(_LOCK_OR_CREATE if create else _LOCK_EXISTING,
                                         batch_id=str(batch_id))).single()
            if locked is None:
                raise BatchNotFound(batch_id)
            if kept is not None and kept[0] == locked["version"] and locked["readable"]:
                batch = kept[1]
            else:
                loaded = await (await tx.run(_GET, batch_id=str(batch_id))).single(strict=True)
                batch = load_batch(loaded["batch"], loaded["items"])
            outcome = change(batch, *arguments)
            await _save(tx, batch, version)
            return Change(batch, outcome)

        try:
            async with self._call(), self._driver.session(database=self._database) as session:
                committed = await session.execute_write(transaction)
        except UnreadableRecord as exc:  # the transaction rolled back, claims and all
            await self._quarantine(exc)
            raise
        if committed is not None:
            committed.batch.saved()
            self._keep(batch_id, version, committed.batch)
        return committed

    def _keep(self, batch_id: UUID, version: str, batch: Batch) -> None:
        if len(self._committed) >= REMEMBERED_RECORDS:
            del self._committed[next(iter(self._committed))]  # the one changed longest ago
        self._committed[batch_id] = (version, batch)

    async def _loaded(self, record: Any) -> Batch:
        try:
            return load_batch(record["batch"], record["items"])
        except UnreadableRecord as exc:
            await self._quarantine(exc)
            raise

    async def _quarantine(self, unreadable: UnreadableRecord) -> None:
        """Set the record aside with its reason, once; a record quarantined before keeps its first reason."""
        async with self._call():
            result = await self._driver.execute_query(
                _QUARANTINE, batch_id=unreadable.batch_id, reason=unreadable.reason,
                detail=unreadable.detail[:QUARANTINED_DETAIL_CHARACTERS], database_=self._database)
        if result.summary.counters.labels_added:
            log.error("progress record quarantined", batch_id=str(unreadable.batch_id), reason=unreadable.reason,
                      detail=unreadable.detail[:QUARANTINED_DETAIL_CHARACTERS])


async def _claim_events(tx: AsyncManagedTransaction, event_ids: Sequence[UUID], batch_id: UUID) -> set[UUID]:
    """The events this transaction is the first to apply."""
    record = await (await tx.run(_CLAIM_EVENTS, event_ids=[str(event_id) for event_id in event_ids],
                                 batch_id=str(batch_id), claim=str(uuid4()))).single()
    return {UUID(event_id) for event_id in record["claimed"]} if record else set()


async def _save(tx: AsyncManagedTransaction, batch: Batch, version: str) -> None:
    items = [{"document_id": str(item.document_id), "properties": item_properties(batch.batch_id, item)}
             for item in batch.changed_documents]
    result = await tx.run(_SAVE, batch_id=str(batch.batch_id), batch=batch_properties(batch), items=items,
                          version=version)
    await result.consume()
