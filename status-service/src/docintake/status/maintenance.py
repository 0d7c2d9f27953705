"""The periodic chores: fail stalled documents, and publish completions nobody marked published."""

import asyncio

from docintake.platform.logging import get_logger
from docintake.platform.messaging import messages_waiting
from docintake.platform.topology import INGESTOR_QUEUE
from docintake.status.runtime import Runtime
from docintake.status.services import publish_due_completions, time_out_stalled_documents

log = get_logger(__name__)


async def run_maintenance(runtime: Runtime) -> None:
    settings = runtime.settings
    # A document waiting behind a backlog is not stalled: the stall clock runs only while the
    # ingestor queue has held nothing waiting, and, after a start, only from the start.
    idle_since = runtime.clock()
    while True:
        await asyncio.sleep(settings.sweep_interval_seconds)
        try:
            if await _ingestion_backlog(runtime):
                idle_since = runtime.clock()
            if (runtime.clock() - idle_since).total_seconds() >= settings.stall_timeout_seconds:
                await time_out_stalled_documents(runtime.repo, runtime.clock, runtime.publish,
                                                 settings.stall_timeout_seconds)
            await publish_due_completions(runtime.repo, runtime.clock, runtime.publish,
                                          settle_seconds=settings.sweep_interval_seconds)
        except Exception:  # noqa: BLE001 - a failed round must not end the chores; the next one retries
            log.exception("maintenance round failed")


async def _ingestion_backlog(runtime: Runtime) -> bool:
    """Whether documents wait in the ingestor queue; when the broker cannot tell, they are taken to."""
    try:
        return await messages_waiting(runtime.broker, INGESTOR_QUEUE) > 0
    except Exception as exc:  # noqa: BLE001 - not knowing must not fail documents
        log.warning("ingestor queue depth unknown; stalled documents are not timed out this round", error=repr(exc))
        return True
