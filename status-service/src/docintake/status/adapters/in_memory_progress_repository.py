"""The ProgressRepository in memory: the unit tests' store, held to the same contract tests as Neo4j's."""

import copy
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

from docintake.contracts.api import TERMINAL_STATES, BatchState
from docintake.status.domain.paging import PageMark
from docintake.status.domain.progress import Batch
from docintake.status.domain.refusals import BatchNotFound, UnreadableRecord
from docintake.status.service_layer.ports import Change

T = TypeVar("T")


class InMemoryProgressRepository:
    def __init__(self) -> None:
        self.batches: dict[UUID, Batch] = {}
        self.applied_events: dict[UUID, datetime] = {}  # and when each was applied
        # Records that would not load back, and why: a test puts them here; they stay, set aside.
        self.quarantined: dict[UUID, str] = {}

    async def get(self, batch_id: UUID) -> Batch | None:
        self._check_readable(batch_id)
        return copy.deepcopy(self.batches.get(batch_id))

    async def apply_once(self, event_ids: Sequence[UUID], batch_id: UUID,
                         change: Callable[[Batch, Collection[UUID]], T]) -> Change[T] | None:
        claimed = set(event_ids) - self.applied_events.keys()
        if not claimed:
            return None
        self._check_readable(batch_id)
        self.batches.setdefault(batch_id, Batch(batch_id))
        result = await self.update(batch_id, lambda batch: change(batch, claimed))
        self.applied_events |= dict.fromkeys(claimed, datetime.now(UTC))
        return result

    async def update(self, batch_id: UUID, change: Callable[[Batch], T]) -> Change[T]:
        self._check_readable(batch_id)
        if batch_id not in self.batches:
            raise BatchNotFound(batch_id)
        batch = copy.deepcopy(self.batches[batch_id])
        outcome = change(batch)  # raising leaves the stored batch as it was, like a rolled-back transaction
        self.batches[batch_id] = batch
        return Change(copy.deepcopy(batch), outcome)

    async def page(self, status: BatchState | None, limit: int, after: PageMark | None,
                   tenant: str | None = None) -> list[Batch]:
        listed = [b for b in self._readable() if b.created_at is not None and status in (None, b.status)
                  and tenant in (None, b.tenant)]
        ordered = sorted(listed, key=lambda b: (b.created_at, str(b.batch_id)), reverse=True)
        if after is not None:
            ordered = [b for b in ordered if (b.created_at, str(b.batch_id)) < (after.created_at, str(after.batch_id))]
        return copy.deepcopy(ordered[:limit])

    async def prune_applied_events(self, applied_before: datetime) -> int:
        pruned = [event_id for event_id, applied_at in self.applied_events.items() if applied_at < applied_before]
        for event_id in pruned:
            del self.applied_events[event_id]
        return len(pruned)

    async def forget_finished_batches(self, finished_before: datetime) -> int:
        forgotten = [batch.batch_id for batch in self._readable()
                     if batch.status in TERMINAL_STATES and batch.completion_published
                     and batch.updated_at is not None and batch.updated_at < finished_before]
        for batch_id in forgotten:
            del self.batches[batch_id]
        return len(forgotten)

    async def stalled_batch_ids(self, cutoff: datetime) -> list[UUID]:
        return [
            batch.batch_id for batch in self._readable()
            if any(not doc.is_finished and doc.progressed_at is not None and doc.progressed_at <= cutoff
                   for doc in batch.documents.values())
            or (not batch.manifest_known and batch.updated_at is not None and batch.updated_at <= cutoff)
        ]

    async def batch_ids_awaiting_completion(self, settled_before: datetime) -> list[UUID]:
        return [
            batch.batch_id for batch in self._readable()
            if batch.status in TERMINAL_STATES and not batch.completion_published
            and batch.updated_at is not None and batch.updated_at <= settled_before
        ]

    async def pending_totals(self) -> tuple[int, int]:
        unfinished = [doc for b in self._readable() for doc in b.documents.values() if not doc.is_finished]
        return sum(doc.ref.size for doc in unfinished if doc.ref), len(unfinished)

    async def tenant_totals(self, tenant: str, since: datetime) -> tuple[int, int, int]:
        batches = [b for b in self._readable() if b.tenant == tenant]
        unfinished = [doc for b in batches for doc in b.documents.values() if not doc.is_finished]
        uploaded = [doc for b in batches if b.created_at is not None and b.created_at >= since
                    for doc in b.documents.values()]
        return (sum(doc.ref.size for doc in unfinished if doc.ref), len(unfinished),
                sum(doc.ref.size for doc in uploaded if doc.ref))

    async def ping(self) -> None:
        return None

    def _check_readable(self, batch_id: UUID) -> None:
        if batch_id in self.quarantined:
            raise UnreadableRecord(batch_id, self.quarantined[batch_id])

    def _readable(self) -> Iterator[Batch]:
        return (batch for batch in self.batches.values() if batch.batch_id not in self.quarantined)
