"""What the status service does of its own accord, around the projection: it announces a batch's
completion, gives up on stalled documents (by publishing their failure), and tells how much
accepted work is still pending, for the gateway's admission control."""

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID

from structlog.contextvars import bound_contextvars

from docintake.contracts.api import PendingBytes
from docintake.contracts.events import DocumentFailed, Event
from docintake.platform.logging import get_logger
from docintake.status.domain.completion import completion_event
from docintake.status.domain.progress import Batch
from docintake.status.domain.refusals import UnreadableRecord
from docintake.status.domain.stall import stall_verdicts
from docintake.status.service_layer.ports import Clock, ProgressRepository, Publish
from docintake.status.service_layer.projection import Outcome, apply_events
from docintake.status.service_layer.publishing import publish_all

log = get_logger(__name__)


async def apply_and_announce(events: Sequence[Event], repo: ProgressRepository, publish: Publish) -> list[Outcome]:
    """Fold the events, and announce the batch's completion if this change made it due."""
    projected = await apply_events(events, repo)
    if projected.completion_due is not None:
        await announce_completion(projected.completion_due, repo, publish)
    return projected.outcomes


async def apply_event(event: Event, repo: ProgressRepository, publish: Publish) -> Outcome:
    [outcome] = await apply_and_announce([event], repo, publish)
    return outcome


async def announce_completion(batch: Batch, repo: ProgressRepository, publish: Publish) -> None:
    """Publish a finished batch's BatchCompleted, then mark it published.

    Whatever fails here is left to the periodic re-publishing of unmarked completions; a second
    publish carries the same event_id, so consumers see the completion once.
    """
    if not batch.completion_due:
        return
    event = completion_event(batch)
    completion_round = batch.completion_round
    try:
        await publish(event)
        await repo.update(batch.batch_id, lambda stored: stored.mark_completion_published(completion_round))
    except Exception as exc:  # noqa: BLE001 - any failure is retried by the sweep
        log.warning("batch completion not announced yet; the sweep retries", error=repr(exc))
        return
    log.info("batch completion published", status=event.data.status, event_id=str(event.event_id),
             completion_round=completion_round)


async def sweep_stalled_documents(repo: ProgressRepository, clock: Clock, publish: Publish,
                                  timeout_seconds: float) -> int:
    """Publish the verdicts on every batch without progress for the timeout, and apply them right
    away (the copies the projection receives are duplicates); returns how many documents failed."""
    now = clock()
    failed = 0
    for batch_id in await repo.stalled_batch_ids(now - timedelta(seconds=timeout_seconds)):
        with _one_batch_of_a_chore(batch_id, "stall sweep"):
            batch = await repo.get(batch_id)
            verdicts = stall_verdicts(batch, now, timeout_seconds) if batch is not None else []
            if not verdicts:
                continue
            await publish_all(publish, verdicts)
            await apply_and_announce(verdicts, repo, publish)
            for verdict in verdicts:
                if isinstance(verdict, DocumentFailed):
                    failed += 1
                    log.warning("document given up on", document_id=str(verdict.document_id),
                                attempt=verdict.data.attempt, error_code=verdict.data.error_code)
                else:
                    log.warning("BatchCreated never came; the documents seen are taken to be the batch")
    return failed


async def publish_due_completions(repo: ProgressRepository, clock: Clock, publish: Publish,
                                  settle_seconds: float, awaiting_before: Collection[UUID] | None = None) -> set[UUID]:
    """Publish the completions nobody marked published, e.g. after a crash between commit and publish;
    returns the batches found awaiting theirs, to be handed to the next round as `awaiting_before`.

    Only batches whose last event is at least `settle_seconds` old: the ones finishing right now
    are being announced by whoever applied their last event. An event's time says little when the
    projection runs behind the events, so with `awaiting_before` only the batches that were
    awaiting their completion a round ago too are published: one being announced right now (by
    this process or another status service) is marked published by then.
    """
    awaiting = set(await repo.batch_ids_awaiting_completion(clock() - timedelta(seconds=settle_seconds)))
    for batch_id in awaiting:
        if awaiting_before is not None and batch_id not in awaiting_before:
            continue
        with _one_batch_of_a_chore(batch_id, "completion re-publishing"):
            batch = await repo.get(batch_id)
            if batch is not None:
                await announce_completion(batch, repo, publish)
    return awaiting


async def pending_bytes(repo: ProgressRepository, tenant: str | None = None,
                        now: datetime | None = None) -> PendingBytes:
    """What is pending in all; and of `tenant`, with what it uploaded since the start of the day (UTC)."""
    size, documents = await repo.pending_totals()
    if tenant is None:
        return PendingBytes(pending_bytes=size, pending_documents=documents)
    today = (now or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    tenant_size, tenant_documents, uploaded = await repo.tenant_totals(tenant, today)
    return PendingBytes(pending_bytes=size, pending_documents=documents, tenant_pending_bytes=tenant_size,
                        tenant_pending_documents=tenant_documents, tenant_uploaded_bytes_today=uploaded)


@contextmanager
def _one_batch_of_a_chore(batch_id: UUID, chore: str) -> Iterator[None]:
    """A batch the chore fails on is logged and left for the next round; the others go on."""
    with bound_contextvars(batch_id=str(batch_id)):
        try:
            yield
        except UnreadableRecord as exc:
            log.warning(f"{chore} left out a quarantined batch", reason=exc.reason)
        except Exception:  # noqa: BLE001
            log.exception(f"{chore} failed for this batch")
