"""What clients read: one batch's status, the batch list page by page."""

from uuid import UUID

from docintake.contracts.api import BatchPage, BatchState, BatchStatus
from docintake.platform.tenants import ANONYMOUS, Principal
from docintake.status.domain import views
from docintake.status.domain.paging import PageMark
from docintake.status.domain.progress import Batch
from docintake.status.domain.refusals import BatchNotFound
from docintake.status.service_layer.ports import Clock, ProgressRepository

# Who reads a status shared by every asker: the check of who may see it is each asker's.
ADMIN = Principal("", "", admin=True)


async def existing_batch(batch_id: UUID, repo: ProgressRepository, caller: Principal = ANONYMOUS) -> Batch:
    """The batch, if the caller may see it: another tenant's batch is not found, as one that never existed."""
    batch = await repo.get(batch_id)
    if batch is None or not caller.sees(batch.tenant):
        raise BatchNotFound(batch_id)
    return batch


async def batch_status(batch_id: UUID, repo: ProgressRepository, clock: Clock) -> BatchStatus:
    return views.batch_status(await existing_batch(batch_id, repo, ADMIN), clock())


async def list_batches(repo: ProgressRepository, clock: Clock, status: BatchState | None, limit: int,
                       cursor: str | None, caller: Principal = ANONYMOUS) -> BatchPage:
    """The caller's tenant's (every tenant's for an admin), newest first; raises InvalidCursor for a cursor
    this service did not hand out."""
    after = PageMark.decode(cursor) if cursor else None
    batches = await repo.page(status, limit + 1, after, None if caller.admin else caller.tenant)
    page = batches[:limit]
    now = clock()
    next_cursor = None
    if len(batches) > limit and page[-1].created_at is not None:
        next_cursor = PageMark(page[-1].created_at, page[-1].batch_id).encode()
    return BatchPage(batches=[views.batch_status(batch, now, itemised=False) for batch in page],
                     next_cursor=next_cursor)
