"""What the uploads bucket keeps: the reaper of uploads that never ended and of batches finished longer
ago than the retention, and a batch that was never announced read as unknown."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from docintake.gateway.domain.batch import announcement_key, batch_prefix
from docintake.gateway.domain.refusals import BatchNotFound, BatchNotProjected
from docintake.gateway.service_layer.ports import FORGOTTEN
from docintake.gateway.service_layer.status_forwarding import answer_about_batch
from docintake.gateway.service_layer.upload_retention import expire_finished_uploads, reap_unannounced_uploads

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
HOURS = timedelta(hours=1)


class Bucket:
    """The uploads bucket as the reaper sees it: objects and when each was written."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, datetime]] = {}

    def put(self, key: str, at: datetime, data: bytes = b"x") -> None:
        self.objects[key] = (data, at)

    async def get_bytes(self, key: str) -> bytes | None:
        return self.objects[key][0] if key in self.objects else None

    async def folders(self, prefix: str) -> list[str]:
        return sorted({prefix + key.removeprefix(prefix).split("/")[0] + "/"
                       for key in self.objects if key.startswith(prefix) and "/" in key.removeprefix(prefix)})

    async def written(self, prefix: str) -> dict[str, datetime]:
        return {key: at for key, (_, at) in self.objects.items() if key.startswith(prefix)}

    async def remove(self, keys: list[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)


def a_batch(bucket: Bucket, written_at: datetime, announced: bool, files: int = 2):
    batch_id = uuid4()
    for _ in range(files):
        bucket.put(f"{batch_prefix(batch_id)}{uuid4()}", written_at)
    if announced:
        bucket.put(announcement_key(batch_id), written_at, b'{"documents": %d}' % files)
    return batch_id


async def test_an_upload_that_never_ended_is_reaped_once_untouched_for_long_enough():
    bucket = Bucket()
    old = a_batch(bucket, NOW - 7 * HOURS, announced=False)
    recent = a_batch(bucket, NOW - 1 * HOURS, announced=False)
    announced_long_ago = a_batch(bucket, NOW - 70 * HOURS, announced=True)
    bucket.put("batches/not-a-batch/file", NOW - 70 * HOURS)

    assert await reap_unannounced_uploads(bucket, 6 * HOURS, NOW) == [old]

    assert await bucket.written(batch_prefix(old)) == {}
    assert len(await bucket.written(batch_prefix(recent))) == 2
    assert len(await bucket.written(batch_prefix(announced_long_ago))) == 2
    assert await bucket.get_bytes("batches/not-a-batch/file") is not None


async def test_an_upload_still_streaming_is_judged_by_its_newest_object():
    bucket = Bucket()
    batch_id = a_batch(bucket, NOW - 10 * HOURS, announced=False)
    bucket.put(f"{batch_prefix(batch_id)}{uuid4()}", NOW - HOURS / 60)
    assert await reap_unannounced_uploads(bucket, 6 * HOURS, NOW) == []


class StatusService:
    """When each batch finished, as the status service tells it; it counts the batches it was asked about."""

    def __init__(self) -> None:
        self.finishes: dict[UUID, datetime | None] = {}
        self.asked: list[UUID] = []

    async def finished_at(self, batch_id: UUID) -> datetime | None:
        self.asked.append(batch_id)
        return self.finishes.get(batch_id, FORGOTTEN)


async def test_raw_uploads_and_their_marker_go_once_their_batch_finished_longer_ago_than_the_retention():
    bucket, status = Bucket(), StatusService()
    days = timedelta(days=1)
    finished_long_ago = a_batch(bucket, NOW - 30 * days, announced=True)
    status.finishes[finished_long_ago] = NOW - 8 * days
    written_long_ago_finished_lately = a_batch(bucket, NOW - 30 * days, announced=True)
    status.finishes[written_long_ago_finished_lately] = NOW - 2 * days
    still_running = a_batch(bucket, NOW - 30 * days, announced=True)
    status.finishes[still_running] = None
    record_forgotten = a_batch(bucket, NOW - 30 * days, announced=True)
    announced_lately = a_batch(bucket, NOW - 2 * days, announced=True)
    never_announced = a_batch(bucket, NOW - 30 * days, announced=False)

    expired = await expire_finished_uploads(bucket, status, 7 * days, NOW)

    assert sorted(expired) == sorted([finished_long_ago, record_forgotten])
    for gone in expired:
        assert await bucket.written(batch_prefix(gone)) == {}
        assert await bucket.get_bytes(announcement_key(gone)) is None
    for kept in (written_long_ago_finished_lately, still_running, announced_lately, never_announced):
        assert len(await bucket.written(batch_prefix(kept))) == 2
    # A batch announced less than the retention ago cannot have finished that long ago: not asked about.
    assert announced_lately not in status.asked and never_announced not in status.asked


class Unknown:
    status_code = 404

    async def aclose(self) -> None:
        pass


async def ask_status_service() -> Unknown:
    return Unknown()


async def test_a_batch_whose_upload_never_ended_is_unknown_whatever_of_it_is_stored():
    bucket = Bucket()
    batch_id = a_batch(bucket, NOW, announced=False, files=3)
    with pytest.raises(BatchNotFound):
        await answer_about_batch(ask_status_service, batch_id, bucket, grace_seconds=0)


async def test_an_announced_batch_the_status_service_has_not_recorded_is_pending_with_its_documents():
    bucket = Bucket()
    batch_id = a_batch(bucket, NOW, announced=True, files=3)
    with pytest.raises(BatchNotProjected) as refused:
        await answer_about_batch(ask_status_service, batch_id, bucket, grace_seconds=0)
    assert refused.value.stored_documents == 3
