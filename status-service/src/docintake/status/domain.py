"""Batch progress as a pure model: each document's state machine and the batch status derived from it.

Nothing here does I/O. The projection loads a Batch, applies one event or command to it and
saves it back; everything a client sees (counts, status, completion time) is derived from the
documents' states, never kept as counters.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from docintake.contracts.api import BatchState
from docintake.contracts.events import (
    BatchCancelled,
    BatchCreated,
    DocumentFailed,
    DocumentIngested,
    DocumentQueued,
    DocumentRef,
    Event,
)

TIMED_OUT = "TIMED_OUT"
NOT_QUEUED = "NOT_QUEUED"
# Failures this service concludes by itself, for want of news; the real outcome, should it come, replaces them.
PRESUMED_FAILURES = frozenset({TIMED_OUT, NOT_QUEUED})
RECENT_FINISHES = 20  # how many recent finishes the completion estimate is based on

PROGRESS_EVENTS: tuple[type[Event], ...] = (
    BatchCreated, DocumentQueued, DocumentIngested, DocumentFailed, BatchCancelled,
)


class ItemState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    INGESTED = "ingested"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return _RANK[self] == _TERMINAL_RANK


_TERMINAL_RANK = 2
_RANK = {
    ItemState.QUEUED: 0,
    ItemState.PROCESSING: 1,
    ItemState.INGESTED: _TERMINAL_RANK,
    ItemState.FAILED: _TERMINAL_RANK,
    ItemState.CANCELLED: _TERMINAL_RANK,
}
UNFINISHED_STATES = tuple(state for state in ItemState if not state.is_terminal)


class BatchRefusal(Exception):
    """A command the batch's current state does not allow."""


class NothingToRetry(BatchRefusal):
    pass


class BatchIsCancelled(BatchRefusal):
    pass


class BatchAlreadyFinished(BatchRefusal):
    pass


@dataclass
class Item:
    """One document of a batch, within its current attempt."""

    document_id: UUID
    attempt: int = 1
    state: ItemState = ItemState.QUEUED
    ref: DocumentRef | None = None
    reported_filename: str | None = None
    error: str | None = None
    error_code: str | None = None
    finished_at: datetime | None = None
    progressed_at: datetime | None = None

    @property
    def filename(self) -> str:
        if self.ref is not None:
            return self.ref.filename
        return self.reported_filename or str(self.document_id)

    @property
    def is_finished(self) -> bool:
        return self.state.is_terminal

    def follow_attempt(self, attempt: int) -> bool:
        """Whether an event of `attempt` still concerns this item; a newer attempt starts over from queued."""
        if attempt < self.attempt:
            return False
        if attempt > self.attempt:
            self.attempt, self.state = attempt, ItemState.QUEUED
            self.error = self.error_code = self.finished_at = None
        return True

    @property
    def is_presumed_failed(self) -> bool:
        return self.state is ItemState.FAILED and self.error_code in PRESUMED_FAILURES

    def advance(self, state: ItemState, at: datetime, *, error: str | None = None,
                error_code: str | None = None) -> bool:
        """Move forward to `state`; the first terminal state of an attempt is final, but for a presumed
        failure, which the attempt's real outcome replaces."""
        real_outcome = state in (ItemState.INGESTED, ItemState.FAILED) and error_code not in PRESUMED_FAILURES
        if _RANK[state] <= _RANK[self.state] and not (self.is_presumed_failed and real_outcome):
            return False
        self.state = state
        if state.is_terminal:
            self.finished_at, self.error, self.error_code = at, error, error_code
        return True


@dataclass(frozen=True)
class Counts:
    total: int
    ingested: int
    failed: int
    cancelled: int

    @property
    def pending(self) -> int:
        return self.total - self.ingested - self.failed - self.cancelled


@dataclass
class Batch:
    """A batch's progress record: its documents plus what the batch-level events said."""

    batch_id: UUID
    created_at: datetime | None = None
    # Whether the full list of documents is known: from BatchCreated, or assumed by the stall sweeper.
    manifest_known: bool = False
    cancelled_at: datetime | None = None
    # A finished batch announces its outcome once per round; when it changes after finishing, a new round opens.
    completion_round: int = 0
    completion_published: bool = False
    updated_at: datetime | None = None
    items: dict[UUID, Item] = field(default_factory=dict)

    # ----- derived -----

    @property
    def counts(self) -> Counts:
        states = [item.state for item in self.items.values()]
        return Counts(
            total=len(states),
            ingested=states.count(ItemState.INGESTED),
            failed=states.count(ItemState.FAILED),
            cancelled=states.count(ItemState.CANCELLED),
        )

    @property
    def status(self) -> BatchState:
        counts = self.counts
        if not self.manifest_known or counts.pending:
            return "in_progress"
        if self.cancelled_at is not None:
            return "cancelled"
        if counts.ingested == counts.total:
            return "completed"
        if counts.ingested:
            return "partial_failure"
        return "failed"

    @property
    def is_finished(self) -> bool:
        return self.status != "in_progress"

    @property
    def completion_due(self) -> bool:
        return self.is_finished and not self.completion_published

    @property
    def completed_at(self) -> datetime | None:
        if not self.is_finished:
            return None
        finishes = [item.finished_at for item in self.items.values() if item.finished_at is not None]
        return max(finishes, default=self.cancelled_at or self.created_at)

    @property
    def processing_time_seconds(self) -> float | None:
        completed_at = self.completed_at
        if completed_at is None or self.created_at is None:
            return None
        return max(0.0, (completed_at - self.created_at).total_seconds())

    @property
    def failed_items(self) -> list[Item]:
        failed = (item for item in self.items.values() if item.state is ItemState.FAILED)
        return sorted(failed, key=lambda item: (item.filename, str(item.document_id)))

    def estimated_completion(self, now: datetime) -> datetime | None:
        """When the batch should finish at its recent pace; None until a document finished, or once done."""
        if self.is_finished:
            return None
        finishes = sorted(item.finished_at for item in self.items.values() if item.finished_at is not None)
        if not finishes:
            return None
        recent = finishes[-RECENT_FINISHES:]
        since = finishes[-RECENT_FINISHES - 1] if len(finishes) > RECENT_FINISHES else self.created_at
        # min(): timestamps come from other services' clocks, which may disagree a little.
        since = min(since or recent[0], recent[0])
        # Measured up to now, not to the last finish, so that the pace drops while nothing finishes.
        seconds_per_document = max((now - since).total_seconds(), 1e-3) / len(recent)
        return now + timedelta(seconds=seconds_per_document * self.counts.pending)

    # ----- events -----

    def apply(self, event: Event, now: datetime) -> None:
        """Fold one event into the record; applying it again, or in another order, converges."""
        before = self._outcome()
        match event:
            case BatchCreated():
                self._take_manifest(event, now)
            case DocumentQueued():
                item = self._item(event.document_id, now)
                item.ref = item.ref or event.data.document
                self._progress(item, event.data.attempt, ItemState.QUEUED, event.occurred_at, now)
            case DocumentIngested():
                item = self._item(event.document_id, now)
                item.reported_filename = item.reported_filename or event.data.filename
                self._progress(item, event.data.attempt, ItemState.INGESTED, event.occurred_at, now)
            case DocumentFailed():
                item = self._item(event.document_id, now)
                item.reported_filename = item.reported_filename or event.data.filename
                self._progress(item, event.data.attempt, ItemState.FAILED, event.occurred_at, now,
                               error=event.data.message, error_code=event.data.error_code)
            case BatchCancelled():
                if not self.is_finished and self.cancelled_at is None:
                    self.cancelled_at = event.occurred_at
        self._note_creation_time(event)
        self._settle(now, before)

    def _take_manifest(self, event: BatchCreated, now: datetime) -> None:
        self.manifest_known = True
        for ref in event.data.documents:
            item = self._item(ref.document_id, now)
            item.ref = ref  # the manifest is authoritative over what DocumentQueued repeated
            item.progressed_at = now

    def _progress(self, item: Item, attempt: int, state: ItemState, at: datetime, now: datetime,
                  **failure: str) -> None:
        if item.follow_attempt(attempt):
            item.advance(state, at, **failure)
            item.progressed_at = now

    def _note_creation_time(self, event: Event) -> None:
        if isinstance(event, BatchCreated):
            self.created_at = event.occurred_at
        elif not self.manifest_known:
            # Until BatchCreated arrives, the batch started with the earliest event seen.
            self.created_at = min(filter(None, (self.created_at, event.occurred_at)))

    def _item(self, document_id: UUID, now: datetime) -> Item:
        if document_id not in self.items:
            self.items[document_id] = Item(document_id, progressed_at=now)
        return self.items[document_id]

    def _outcome(self) -> tuple[BatchState, Counts]:
        return self.status, self.counts

    def _settle(self, now: datetime, before: tuple[BatchState, Counts]) -> None:
        """Restore what must hold after a change that started from the outcome `before`."""
        if self.cancelled_at is not None:
            for item in self.items.values():
                if item.advance(ItemState.CANCELLED, self.cancelled_at):
                    item.progressed_at = now
        finished_before = before[0] != "in_progress"
        if finished_before and self._outcome() != before:
            # A finished batch changed (a retry, a newer attempt): its next outcome is announced anew.
            self.completion_round += 1
            self.completion_published = False
        self.updated_at = now

    # ----- commands -----

    def check_cancellable(self) -> None:
        if self.is_finished:
            raise BatchAlreadyFinished(f"batch {self.batch_id} already finished ({self.status})")

    def retry_failed(self, now: datetime) -> list[Item]:
        """Start the next attempt of every failed document whose upload is known; returns them."""
        if self.cancelled_at is not None:
            raise BatchIsCancelled(f"batch {self.batch_id} was cancelled")
        retryable = [item for item in self.failed_items if item.ref is not None]
        if not retryable:
            raise NothingToRetry(f"batch {self.batch_id} has no failed document to retry")
        before = self._outcome()
        for item in retryable:
            item.follow_attempt(item.attempt + 1)
            item.progressed_at = now
        self._settle(now, before)
        return retryable

    def fail_unqueued(self, retried: list[Item], now: datetime) -> None:
        """The retried documents whose DocumentQueued was not confirmed fail again, so they can be retried again."""
        before = self._outcome()
        for retried_item in retried:
            item = self.items[retried_item.document_id]
            if item.attempt == retried_item.attempt:
                item.advance(ItemState.FAILED, now, error="Not queued again: the message broker was unavailable; "
                             "retry the batch's failed documents again", error_code=NOT_QUEUED)
                item.progressed_at = now
        self._settle(now, before)

    def time_out_stalled(self, now: datetime, timeout_seconds: float) -> list[Item]:
        """Fail the documents that made no progress within the timeout; returns them."""
        before = self._outcome()
        cutoff = now - timedelta(seconds=timeout_seconds)
        stalled = [
            item for item in self.items.values()
            if not item.is_finished and item.progressed_at is not None and item.progressed_at <= cutoff
        ]
        reason = f"timed out: no progress for {timeout_seconds:g} s"
        for item in stalled:
            item.advance(ItemState.FAILED, now, error=reason, error_code=TIMED_OUT)
            item.progressed_at = now
        if not self.manifest_known and self.updated_at is not None and self.updated_at <= cutoff:
            # BatchCreated never came: the documents seen so far are taken to be the whole batch.
            self.manifest_known = True
        self._settle(now, before)
        return stalled

    def mark_completion_published(self, completion_round: int, now: datetime) -> None:
        """A round's completion went out; one of a round since superseded changes nothing."""
        if completion_round == self.completion_round:
            self.completion_published = True
        self.updated_at = now
