"""What clients ask of a batch: cancel it, retry its failed documents. Each command is published as
events and applied right away; the copies the projection receives are duplicates by event_id.
Should the broker not confirm them, nothing changed here and the command can be repeated.

Commands of one batch run one at a time in the process, so a second one sees what the first did;
their events' ids follow from what they are about, so commands of two processes publish duplicates."""

from uuid import UUID

from docintake.platform.logging import get_logger
from docintake.platform.tenants import ANONYMOUS, Principal
from docintake.status.domain.cancellation import cancellation_event
from docintake.status.domain.progress import Batch
from docintake.status.domain.retry import retry_events
from docintake.status.service_layer.batch_locks import BatchLocks
from docintake.status.service_layer.ports import Clock, ProgressRepository, Publish
from docintake.status.service_layer.process_manager import apply_and_announce
from docintake.status.service_layer.publishing import publish_all
from docintake.status.service_layer.queries import existing_batch

log = get_logger(__name__)


async def cancel_batch(batch_id: UUID, repo: ProgressRepository, clock: Clock, publish: Publish,
                       locks: BatchLocks, caller: Principal = ANONYMOUS) -> Batch:
    """Refuses another tenant's batch as not found."""
    async with locks.holding(batch_id):
        batch = await existing_batch(batch_id, repo, caller)
        batch.check_cancellable()
        event = cancellation_event(batch, clock(), caller.key_id)
        await publish_all(publish, [event])
        await apply_and_announce([event], repo, publish)
        log.info("batch cancelled", batch_id=str(batch_id), tenant=batch.tenant, key_id=caller.key_id)
        return await existing_batch(batch_id, repo, caller)


async def retry_failed_documents(batch_id: UUID, repo: ProgressRepository, clock: Clock, publish: Publish,
                                 locks: BatchLocks, caller: Principal = ANONYMOUS) -> Batch:
    """Queue the next attempt of every failed document whose upload is known; refuses another tenant's
    batch as not found."""
    async with locks.holding(batch_id):
        batch = await existing_batch(batch_id, repo, caller)
        events = retry_events(batch, clock(), caller.key_id)
        await publish_all(publish, events)
        await apply_and_announce(events, repo, publish)
        log.info("failed documents queued again", batch_id=str(batch_id), documents=len(events),
                 tenant=batch.tenant, key_id=caller.key_id)
        return await existing_batch(batch_id, repo, caller)
