"""How long the uploads bucket keeps what it holds.

The raw uploads of announced batches, and the markers that say they were announced, are deleted by
MinIO's bucket lifecycle `retention_days` after they were written (0: kept). The objects of a batch
that was never announced (its gateway stopped mid-upload, or could not clean up after a failure) are
removed by the reaper once nothing has been written to them for `unfinished_for`. Parts of multipart
uploads that never completed are MinIO's own to drop (its `api stale_uploads_expiry`, 24 h by default).
"""

from datetime import datetime, timedelta
from uuid import UUID

from docintake.gateway.domain.batch import ANNOUNCED, BATCHES, announcement_key
from docintake.gateway.service_layer.ports import UploadedObjects, UploadsLifecycle
from docintake.platform.logging import get_logger

log = get_logger(__name__)


async def keep_uploads_for(store: UploadsLifecycle, retention_days: int) -> None:
    if retention_days > 0:
        for prefix in (BATCHES, ANNOUNCED):
            await store.expire(prefix, retention_days)


async def reap_unannounced_uploads(store: UploadedObjects, unfinished_for: timedelta, now: datetime) -> list[UUID]:
    """The batches whose objects were removed."""
    reaped = []
    for folder in await store.folders(BATCHES):
        try:
            batch_id = UUID(folder.removeprefix(BATCHES).rstrip("/"))
        except ValueError:
            continue  # not a batch of this gateway's making
        if await store.get_bytes(announcement_key(batch_id)) is not None:
            continue
        written = await store.written(folder)
        if written and now - max(written.values()) >= unfinished_for:
            await store.remove(list(written))
            log.info("objects of an upload that never ended removed", batch_id=str(batch_id), objects=len(written))
            reaped.append(batch_id)
    return reaped
