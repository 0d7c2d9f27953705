"""Many askers of the same share one read within the read's max age."""

import asyncio

import pytest

from docintake.status.adapters.coalesced_reads import CoalescedReads


class CountingStore:
    def __init__(self, failures: int = 0) -> None:
        self.reads = 0
        self.failures = failures

    async def read(self):
        self.reads += 1
        await asyncio.sleep(0.01)
        if self.failures:
            self.failures -= 1
            raise ConnectionError("store unreachable")
        return self.reads


async def test_concurrent_and_recent_askers_share_one_read():
    store, shared = CountingStore(), CoalescedReads(max_age_seconds=0.2)
    results = await asyncio.gather(*(shared.get("batch", store.read) for _ in range(50)))
    assert store.reads == 1 and set(results) == {1}

    assert await shared.get("batch", store.read) == 1
    assert await shared.get("another batch", store.read) == 2
    await asyncio.sleep(0.25)
    assert await shared.get("batch", store.read) == 3


async def test_a_forgotten_read_is_read_anew():
    store, shared = CountingStore(), CoalescedReads(max_age_seconds=10)
    await shared.get("batch", store.read)
    shared.forget("batch")
    assert await shared.get("batch", store.read) == 2


async def test_a_failed_read_is_not_handed_to_later_askers():
    store, shared = CountingStore(failures=1), CoalescedReads(max_age_seconds=10)
    with pytest.raises(ConnectionError):
        await shared.get("batch", store.read)
    assert await shared.get("batch", store.read) == 2
