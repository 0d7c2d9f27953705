"""How long the uploads bucket keeps what it holds; the reaper every gateway runs does the removing.

The raw uploads of an announced batch, and the marker that says it was announced, are removed once
the batch finished `retention` ago, as the status service tells (a batch it no longer keeps a record
of finished long ago); a retry needs them until then. MinIO's bucket lifecycle cannot do this: its
rules count from when an object was written. The objects of a batch that was never announced (its
gateway stopped mid-upload, or could not clean up after a failure) are removed once nothing has
been written to them for `unfinished_for`. Parts of multipart uploads that never completed are
MinIO's own to drop (its `api stale_uploads_expiry`, 24 h by default).
"""

from datetime import datetime, timedelta
from uuid import UUID

from docintake.gateway.domain.batch import BATCHES, announcement_key, batch_prefix
from docintake.gateway.service_layer.ports import BatchFinishes, UploadedObjects
from docintake.platform.logging import get_logger

log = get_logger(__name__)


async def expire_finished_uploads(store: UploadedObjects, finishes: BatchFinishes, retention: timedelta,
                                  now: datetime) -> list[UUID]:
    """The batches whose objects were removed, each having finished at least `retention` ago."""
    expired = []
    for batch_id in await _batch_ids(store):
        marker = await store.written(announcement_key(batch_id))
        if not marker or now - min(marker.values()) < retention:
            continue  # never announced, or announced too recently to have finished that long ago
        finished_at = await finishes.finished_at(batch_id)
        if finished_at is None or now - finished_at < retention:
            continue
        objects = await store.written(batch_prefix(batch_id))
        await store.remove([*objects, *marker])
        log.info("raw uploads of a batch finished long enough ago removed", batch_id=str(batch_id),
                 objects=len(objects))
        expired.append(batch_id)
    return expired


async def reap_unannounced_uploads(store: UploadedObjects, unfinished_for: timedelta, now: datetime) -> list[UUID]:
    """The batches whose objects were removed."""
    reaped = []
    for batch_id in await _batch_ids(store):
        folder = batch_prefix(batch_id)
        if await store.get_bytes(announcement_key(batch_id)) is not None:
            continue
        written = await store.written(folder)
        if written and now - max(written.values()) >= unfinished_for:
            await store.remove(list(written))
            log.info("objects of an upload that never ended removed", batch_id=str(batch_id), objects=len(written))
            reaped.append(batch_id)
    return reaped


async def _batch_ids(store: UploadedObjects) -> list[UUID]:
    batch_ids = []
    for folder in await store.folders(BATCHES):
        try:
            batch_ids.append(UUID(folder.removeprefix(BATCHES).rstrip("/")))
        except ValueError:
            continue  # not a batch of this gateway's making
    return batch_ids
