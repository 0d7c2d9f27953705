"""Admission control: refuse new batches while too many accepted bytes wait for ingestion.

The pending figure is the status service's: the total size of accepted documents that are
not yet ingested, failed or cancelled, across every gateway. When the status service cannot
be asked, batches are admitted (the backlog guard must not become an outage of its own).
"""

from docintake.gateway.domain.refusals import BacklogFull, StatusServiceUnavailable
from docintake.gateway.service_layer.ports import PendingSource
from docintake.platform.logging import get_logger

log = get_logger(__name__)


async def admit(backlog: PendingSource, max_pending_bytes: int, retry_after_seconds: int) -> None:
    try:
        pending = await backlog.pending()
    except StatusServiceUnavailable as exc:
        log.warning("pending bytes unknown; admitting the batch", error=repr(exc.__cause__ or exc))
        return
    if pending.pending_bytes >= max_pending_bytes:
        raise BacklogFull(pending.pending_bytes, pending.pending_documents, max_pending_bytes, retry_after_seconds)
