"""An in-memory ProgressRepository and a recording publisher, for service-layer tests."""

import copy
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from docintake.contracts.events import Event
from docintake.status.domain import Batch
from docintake.status.repository import BatchNotFound, Change, PageMark

T = TypeVar("T")


class InMemoryProgressRepository:
    def __init__(self) -> None:
        self.batches: dict[UUID, Batch] = {}
        self.applied_events: set[UUID] = set()

    async def get(self, batch_id: UUID) -> Batch | None:
        return copy.deepcopy(self.batches.get(batch_id))

    async def apply_once(self, event_ids: Sequence[UUID], batch_id: UUID,
                         change: Callable[[Batch, Collection[UUID]], T]) -> Change[T] | None:
        claimed = set(event_ids) - self.applied_events
        if not claimed:
            return None
        self.batches.setdefault(batch_id, Batch(batch_id))
        result = await self.update(batch_id, lambda batch: change(batch, claimed))
        self.applied_events |= claimed
        return result

    async def update(self, batch_id: UUID, change: Callable[[Batch], T]) -> Change[T]:
        if batch_id not in self.batches:
            raise BatchNotFound(batch_id)
        batch = copy.deepcopy(self.batches[batch_id])
        outcome = change(batch)  # raising leaves the stored batch as it was, like a rolled-back transaction
        self.batches[batch_id] = batch
        return Change(copy.deepcopy(batch), outcome)

    async def page(self, status, limit: int, after: PageMark | None) -> list[Batch]:
        ordered = sorted(self.batches.values(), key=lambda b: (b.created_at, str(b.batch_id)), reverse=True)
        if after is not None:
            ordered = [b for b in ordered if (b.created_at, str(b.batch_id)) < (after.created_at, str(after.batch_id))]
        return [b for b in ordered if status is None or b.status == status][:limit]

    async def stalled_batch_ids(self, cutoff: datetime) -> list[UUID]:
        return list(self.batches)

    async def batch_ids_awaiting_completion(self, settled_before: datetime) -> list[UUID]:
        return [b.batch_id for b in self.batches.values() if b.completion_due]

    async def pending_totals(self) -> tuple[int, int]:
        unfinished = [i for b in self.batches.values() for i in b.items.values() if not i.is_finished]
        return sum(i.ref.size for i in unfinished if i.ref), len(unfinished)

    async def ping(self) -> None:
        return None


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.failing = False

    async def __call__(self, event: Event) -> None:
        if self.failing:
            raise ConnectionError("broker unreachable")
        self.events.append(event)

    def of_type(self, event_type: type[Event]) -> list[Event]:
        return [event for event in self.events if isinstance(event, event_type)]
