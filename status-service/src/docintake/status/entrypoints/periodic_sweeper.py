"""The periodic sweep: give up on stalled documents, publish completions nobody marked published, and
forget the ids of events applied long ago and the records of batches finished long ago."""

import asyncio
from datetime import timedelta
from uuid import UUID

from docintake.platform.logging import get_logger
from docintake.platform.messaging import ingestion_backlog
from docintake.status.bootstrap import Dependencies
from docintake.status.entrypoints.metrics import DOCUMENTS_TIMED_OUT
from docintake.status.service_layer.process_manager import publish_due_completions, sweep_stalled_documents

log = get_logger(__name__)


async def run_sweeper(dependencies: Dependencies) -> None:
    settings = dependencies.settings
    # A document waiting behind a backlog is not stalled: the stall clock runs only while the
    # ingestor queue has held nothing waiting, and, after a start, only from the start.
    idle_since = dependencies.clock()
    # The completions found unpublished last round: only those are re-published this round.
    awaiting_completion: set[UUID] = set()
    while True:
        await asyncio.sleep(settings.sweep_interval_seconds)
        try:
            if await _ingestion_backlog(dependencies):
                idle_since = dependencies.clock()
            if (dependencies.clock() - idle_since).total_seconds() >= settings.stall_timeout_seconds:
                DOCUMENTS_TIMED_OUT.inc(await sweep_stalled_documents(
                    dependencies.repo, dependencies.clock, dependencies.publish, settings.stall_timeout_seconds))
            awaiting_completion = await publish_due_completions(
                dependencies.repo, dependencies.clock, dependencies.publish,
                settle_seconds=settings.sweep_interval_seconds, awaiting_before=awaiting_completion)
            await dependencies.repo.prune_applied_events(
                dependencies.clock() - timedelta(hours=settings.applied_event_retention_hours))
            if settings.batch_record_retention_days > 0:
                await dependencies.repo.forget_finished_batches(
                    dependencies.clock() - timedelta(days=settings.batch_record_retention_days))
                await dependencies.webhooks.store.forget_finished(
                    dependencies.clock() - timedelta(days=settings.batch_record_retention_days))
        except Exception:  # noqa: BLE001 - a failed round must not end the sweeps; the next one retries
            log.exception("sweep round failed")


async def _ingestion_backlog(dependencies: Dependencies) -> bool:
    """Whether documents wait for an ingestor (on any lane); when the broker cannot tell, they are taken to."""
    try:
        return await ingestion_backlog(dependencies.broker) > 0
    except Exception as exc:  # noqa: BLE001 - not knowing must not fail documents
        log.warning("ingestor queue depth unknown; stalled documents are not timed out this round", error=repr(exc))
        return True
