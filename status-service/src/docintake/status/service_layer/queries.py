"""What clients read: one batch's status, the batch list page by page."""

from uuid import UUID

from docintake.contracts.api import BatchPage, BatchState, BatchStatus
from docintake.status.domain import views
from docintake.status.domain.paging import PageMark
from docintake.status.domain.progress import Batch
from docintake.status.domain.refusals import BatchNotFound
from docintake.status.service_layer.ports import Clock, ProgressRepository


async def existing_batch(batch_id: UUID, repo: ProgressRepository) -> Batch:
    batch = await repo.get(batch_id)
    if batch is None:
        raise BatchNotFound(batch_id)
    return batch


async def batch_status(batch_id: UUID, repo: ProgressRepository, clock: Clock) -> BatchStatus:
    return views.batch_status(await existing_batch(batch_id, repo), clock())


async def list_batches(repo: ProgressRepository, clock: Clock, status: BatchState | None, limit: int,
                       cursor: str | None) -> BatchPage:
    """Newest first; raises InvalidCursor for a cursor this service did not hand out."""
    after = PageMark.decode(cursor) if cursor else None
    batches = await repo.page(status, limit + 1, after)
    page = batches[:limit]
    now = clock()
    next_cursor = None
    if len(batches) > limit and page[-1].created_at is not None:
        next_cursor = PageMark(page[-1].created_at, page[-1].batch_id).encode()
    return BatchPage(batches=[views.batch_status(batch, now, itemised=False) for batch in page],
                     next_cursor=next_cursor)
