"""Many askers of one batch share a store read within the read's max age."""

import asyncio

import pytest

from docintake.status.domain import Batch
from docintake.status.shared_reads import SharedBatchReads
from tests.unit.status.status_events import SyntheticBatch


class CountingStore:
    def __init__(self, failures: int = 0) -> None:
        self.reads = 0
        self.failures = failures

    async def get(self, batch_id):
        self.reads += 1
        await asyncio.sleep(0.01)
        if self.failures:
            self.failures -= 1
            raise ConnectionError("store unreachable")
        return Batch(batch_id)


async def test_concurrent_and_recent_askers_share_one_read():
    store, batch_id = CountingStore(), SyntheticBatch().batch_id
    reads = SharedBatchReads(store, max_age_seconds=0.2)
    batches = await asyncio.gather(*(reads.get(batch_id) for _ in range(50)))
    assert store.reads == 1 and all(batch.batch_id == batch_id for batch in batches)

    await reads.get(batch_id)
    assert store.reads == 1
    await asyncio.sleep(0.25)
    await reads.get(batch_id)
    assert store.reads == 2


async def test_a_failed_read_is_not_handed_to_later_askers():
    store, batch_id = CountingStore(failures=1), SyntheticBatch().batch_id
    reads = SharedBatchReads(store, max_age_seconds=10)
    with pytest.raises(ConnectionError):
        await reads.get(batch_id)
    assert (await reads.get(batch_id)).batch_id == batch_id
    assert store.reads == 2
