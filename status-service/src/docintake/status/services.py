"""The status service's use cases. Each takes what it works with as arguments: the progress
repository, a clock and a way to publish events."""

import asyncio
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from structlog.contextvars import bound_contextvars

from docintake.contracts.api import BatchPage, BatchState, BatchStatus, PendingBytes
from docintake.contracts.events import BatchCancelled, DocumentQueued, DocumentQueuedData, Event
from docintake.platform.logging import get_logger
from docintake.status import views
from docintake.status.completion import completion_event
from docintake.status.domain import PROGRESS_EVENTS, Batch
from docintake.status.metrics import COMPLETIONS_PUBLISHED, DOCUMENTS_TIMED_OUT
from docintake.status.repository import BatchNotFound, PageMark, ProgressRepository

log = get_logger(__name__)

T = TypeVar("T")
Publish = Callable[[Event], Awaitable[None]]
Clock = Callable[[], datetime]


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


class EventNotPublished(Exception):
    """The broker did not confirm an event, so the command did not take effect."""


async def apply_event(event: Event, repo: ProgressRepository, clock: Clock, publish: Publish) -> Outcome:
    """Fold one event into its batch's record, once, and announce the batch's completion if it finished."""
    [outcome] = await apply_events([event], repo, clock, publish)
    return outcome


async def apply_events(events: Sequence[Event], repo: ProgressRepository, clock: Clock,
                       publish: Publish) -> list[Outcome]:
    """Fold events of one batch into its record in one change, each event once; the outcome of each."""
    progress = [event for event in events if isinstance(event, PROGRESS_EVENTS)]
    applied: set[UUID] = set()
    if progress:
        now = clock()

        def fold(batch: Batch, claimed: Collection[UUID]) -> set[UUID]:
            folded: set[UUID] = set()
            for event in progress:
                if event.event_id in claimed and event.event_id not in folded:
                    batch.apply(event, now)
                    folded.add(event.event_id)
            return folded

        change = await repo.apply_once([event.event_id for event in progress], progress[0].batch_id,
                                       _noting_completion(fold))
        if change is not None:
            applied, completion_became_due = change.outcome
            if completion_became_due:
                await announce_completion(change.batch, repo, clock, publish)
    return [_outcome(event, applied) for event in events]


def _outcome(event: Event, applied: set[UUID]) -> Outcome:
    if not isinstance(event, PROGRESS_EVENTS):
        return Outcome.IGNORED
    if event.event_id in applied:
        applied.discard(event.event_id)  # a second copy in the same group is a duplicate
        return Outcome.APPLIED
    return Outcome.DUPLICATE


def _noting_completion(change: Callable[..., T]) -> Callable[..., tuple[T, bool]]:
    """The change, also telling whether it made the batch's completion due.

    Only that change announces the completion right away; others that find it due while the
    announcement is under way leave it alone (the periodic re-publishing covers a failed one).
    """
    def noting(batch: Batch, *arguments: object) -> tuple[T, bool]:
        was_due = batch.completion_due
        outcome = change(batch, *arguments)
        return outcome, batch.completion_due and not was_due

    return noting


async def announce_completion(batch: Batch, repo: ProgressRepository, clock: Clock, publish: Publish) -> None:
    """Publish a finished batch's BatchCompleted, then mark it published.

    Whatever fails here is left to the periodic re-publishing of unmarked completions; a second
    publish carries the same event_id, so consumers see the completion once.
    """
    if not batch.completion_due:
        return
    event = completion_event(batch)
    try:
        await publish(event)
        await repo.update(batch.batch_id, lambda b: b.mark_completion_published(batch.completion_round, clock()))
    except Exception as exc:  # noqa: BLE001 - any failure is retried by the sweep
        log.warning("batch completion not announced yet; the sweep retries", error=repr(exc))
        return
    COMPLETIONS_PUBLISHED.inc()
    log.info("batch completion published", status=event.data.status, event_id=str(event.event_id),
             completion_round=batch.completion_round)


async def cancel_batch(batch_id: UUID, repo: ProgressRepository, clock: Clock, publish: Publish) -> Batch:
    """Publish BatchCancelled and apply it right away; the copy the projection receives is a duplicate."""
    batch = await _existing(batch_id, repo)
    batch.check_cancellable()
    event = BatchCancelled(batch_id=batch_id)
    await _publish_all(publish, [event])
    await apply_event(event, repo, clock, publish)
    return await _existing(batch_id, repo)


async def retry_failed_documents(batch_id: UUID, repo: ProgressRepository, clock: Clock,
                                 publish: Publish) -> Batch:
    """Queue the next attempt of every failed document.

    The documents are queued in the store before their DocumentQueued is published; should the
    publish fail, they fail again at once (an ingestor's real outcome would still replace that),
    so the retry can be repeated.
    """
    now = clock()
    change = await repo.update(batch_id, lambda batch: batch.retry_failed(now))
    try:
        await _publish_all(publish, [
            DocumentQueued(
                batch_id=batch_id,
                document_id=item.document_id,
                data=DocumentQueuedData(document=item.ref, attempt=item.attempt),
            )
            for item in change.outcome
        ])
    except EventNotPublished:
        await repo.update(batch_id, lambda batch: batch.fail_unqueued(change.outcome, clock()))
        raise
    log.info("failed documents queued again", batch_id=str(batch_id), documents=len(change.outcome))
    return change.batch


async def time_out_stalled_documents(repo: ProgressRepository, clock: Clock, publish: Publish,
                                     timeout_seconds: float) -> int:
    """Fail every document without progress for the timeout; returns how many."""
    now = clock()
    timed_out = 0
    for batch_id in await repo.stalled_batch_ids(now - timedelta(seconds=timeout_seconds)):
        with _one_batch_of_a_chore(batch_id, "stall sweep"):
            change = await repo.update(
                batch_id, _noting_completion(lambda batch: batch.time_out_stalled(now, timeout_seconds)))
            stalled, completion_became_due = change.outcome
            for item in stalled:
                log.warning("document timed out", document_id=str(item.document_id), attempt=item.attempt,
                            error=item.error)
            timed_out += len(stalled)
            if completion_became_due:
                await announce_completion(change.batch, repo, clock, publish)
    DOCUMENTS_TIMED_OUT.inc(timed_out)
    return timed_out


async def publish_due_completions(repo: ProgressRepository, clock: Clock, publish: Publish,
                                  settle_seconds: float) -> None:
    """Publish the completions nobody marked published, e.g. after a crash between commit and publish.

    Only batches that finished at least `settle_seconds` ago: the ones finishing right now are
    being announced by whoever applied their last event.
    """
    for batch_id in await repo.batch_ids_awaiting_completion(clock() - timedelta(seconds=settle_seconds)):
        with _one_batch_of_a_chore(batch_id, "completion re-publishing"):
            batch = await repo.get(batch_id)
            if batch is not None:
                await announce_completion(batch, repo, clock, publish)


async def batch_status(batch_id: UUID, repo: ProgressRepository, clock: Clock) -> BatchStatus:
    return views.batch_status(await _existing(batch_id, repo), clock())


async def list_batches(repo: ProgressRepository, clock: Clock, status: BatchState | None, limit: int,
                       cursor: str | None) -> BatchPage:
    """Newest first; raises ValueError for a cursor this service did not hand out."""
    after = PageMark.decode(cursor) if cursor else None
    batches = await repo.page(status, limit + 1, after)
    page = batches[:limit]
    now = clock()
    next_cursor = None
    if len(batches) > limit and page[-1].created_at is not None:
        next_cursor = PageMark(page[-1].created_at, page[-1].batch_id).encode()
    return BatchPage(batches=[views.batch_status(batch, now) for batch in page], next_cursor=next_cursor)


async def pending_bytes(repo: ProgressRepository) -> PendingBytes:
    size, documents = await repo.pending_totals()
    return PendingBytes(pending_bytes=size, pending_documents=documents)


@contextmanager
def _one_batch_of_a_chore(batch_id: UUID, chore: str) -> Iterator[None]:
    """A batch the chore fails on is logged and left for the next round; the others go on."""
    with bound_contextvars(batch_id=str(batch_id)):
        try:
            yield
        except Exception:  # noqa: BLE001
            log.exception(f"{chore} failed for this batch")


async def _existing(batch_id: UUID, repo: ProgressRepository) -> Batch:
    batch = await repo.get(batch_id)
    if batch is None:
        raise BatchNotFound(batch_id)
    return batch


async def _publish_all(publish: Publish, events: list[Event]) -> None:
    try:
        await asyncio.gather(*(publish(event) for event in events))
    except Exception as exc:  # noqa: BLE001 - whatever the broker client raised, the command failed
        raise EventNotPublished(f"the broker did not confirm {len(events)} event(s): {exc!r}") from exc
