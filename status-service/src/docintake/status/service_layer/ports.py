"""What the use cases need from outside: the progress store, a way to publish events, a clock."""

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar
from uuid import UUID

from docintake.contracts.api import BatchState
from docintake.contracts.events import Event
from docintake.status.domain.paging import PageMark
from docintake.status.domain.progress import Batch

T = TypeVar("T")
Publish = Callable[[Event], Awaitable[None]]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Change(Generic[T]):
    """A committed change: the batch as it now is, and what the change returned."""

    batch: Batch
    outcome: T


class ProgressRepository(Protocol):
    """Batch progress records. Raises GraphUnavailable when the store is out of reach for now,
    GraphRefused when it refuses for good.

    A record that does not load back is quarantined: get, apply_once and update of its batch raise
    UnreadableRecord (and change nothing); page and the chores' queries leave it out, so one bad
    record costs no other batch anything.
    """

    async def get(self, batch_id: UUID) -> Batch | None: ...

    async def apply_once(self, event_ids: Sequence[UUID], batch_id: UUID,
                         change: Callable[[Batch, Collection[UUID]], T]) -> Change[T] | None:
        """Run `change` on the batch (created if new) with the events not applied before, or None if all were."""

    async def update(self, batch_id: UUID, change: Callable[[Batch], T]) -> Change[T]:
        """Run `change` on an existing batch; raises BatchNotFound."""

    async def page(self, status: BatchState | None, limit: int, after: PageMark | None,
                   tenant: str | None = None) -> list[Batch]:
        """Newest first (created_at, then batch_id, descending), after `after`, of `status` and `tenant`
        if given."""

    async def prune_applied_events(self, applied_before: datetime) -> int:
        """Forget which events applied before the time were applied; how many. Safe at any time: the fold
        gives the same record for any duplication, so an event seen again only costs its work again."""

    async def forget_finished_batches(self, finished_before: datetime) -> int:
        """Delete the records of batches finished, and their completion published, before the time
        (quarantined ones stay for the operator); how many."""

    async def stalled_batch_ids(self, cutoff: datetime) -> list[UUID]:
        """Batches with an unfinished document, or no BatchCreated, that changed no later than `cutoff`
        (more may be named: the sweeper decides per batch)."""

    async def batch_ids_awaiting_completion(self, settled_before: datetime) -> list[UUID]:
        """Finished batches whose completion is not marked published and that settled before the time."""

    async def pending_totals(self) -> tuple[int, int]:
        """Bytes and number of accepted documents not yet finished."""

    async def tenant_totals(self, tenant: str, since: datetime) -> tuple[int, int, int]:
        """Of the tenant's batches: bytes and number of documents not yet finished, and bytes of the
        batches created since `since`."""

    async def ping(self) -> None: ...
