"""A cancelled batch: remember it, so its documents still queued are skipped."""

import structlog

from docintake.contracts.events import BatchCancelled
from docintake.ingestor.service_layer.ports import Graph
from docintake.platform.logging import get_logger

log = get_logger(__name__)


async def cancel_batch(event: BatchCancelled, graph: Graph) -> None:
    with structlog.contextvars.bound_contextvars(batch_id=str(event.batch_id), document_id=None, tenant=event.tenant):
        await graph.mark_cancelled(str(event.batch_id))
        log.info("batch cancelled; its remaining documents will be skipped")
