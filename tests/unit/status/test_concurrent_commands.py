"""Commands of one batch asked at the same moment: one takes effect and publishes, the others are refused
as a repeat would be; and the events are the same whoever publishes them, so that two instances duplicate."""

import asyncio
from datetime import timedelta
from uuid import uuid5

import pytest

from docintake.contracts.events import BatchCancelled, DocumentQueued
from docintake.status.adapters.in_memory_progress_repository import InMemoryProgressRepository
from docintake.status.domain.refusals import BatchAlreadyFinished, BatchIsCancelled, NothingToRetry
from docintake.status.service_layer import commands, process_manager
from docintake.status.service_layer.batch_locks import BatchLocks
from tests.support.status_events import T0, SyntheticBatch
from tests.unit.status.status_fakes import RecordingPublisher

CLIENTS = 5


def clock():
    return T0 + timedelta(seconds=10)


class SlowPublisher(RecordingPublisher):
    """A broker that takes a moment to confirm, so that the commands overlap."""

    async def __call__(self, event):
        await asyncio.sleep(0.01)
        await super().__call__(event)


@pytest.fixture
def repo():
    return InMemoryProgressRepository()


@pytest.fixture
def publish():
    return SlowPublisher()


async def tell(repo, publish, events):
    for event in events:
        await process_manager.apply_event(event, repo, publish)


async def test_simultaneous_cancels_publish_one_batch_cancelled_and_the_others_are_refused(repo, publish):
    synthetic = SyntheticBatch(size=3, start=T0)
    await tell(repo, publish, [synthetic.created(), synthetic.ingested(0)])
    locks = BatchLocks()

    answers = await asyncio.gather(
        *(commands.cancel_batch(synthetic.batch_id, repo, clock, publish, locks) for _ in range(CLIENTS)),
        return_exceptions=True)

    [cancelled] = publish.of_type(BatchCancelled)
    assert cancelled.event_id == uuid5(synthetic.batch_id, "batch.cancelled")
    assert [answer.status for answer in answers if not isinstance(answer, Exception)] == ["cancelled"]
    assert [type(answer) for answer in answers if isinstance(answer, Exception)] == [BatchAlreadyFinished] * (
        CLIENTS - 1)
    assert len(locks) == 0


async def test_simultaneous_retries_queue_each_failed_document_once(repo, publish):
    synthetic = SyntheticBatch(size=3, start=T0)
    await tell(repo, publish, synthetic.story("iff"))
    locks = BatchLocks()

    answers = await asyncio.gather(
        *(commands.retry_failed_documents(synthetic.batch_id, repo, clock, publish, locks) for _ in range(CLIENTS)),
        return_exceptions=True)

    queued = publish.of_type(DocumentQueued)
    assert sorted((event.document_id, event.data.attempt) for event in queued) == sorted(
        (ref.document_id, 2) for ref in synthetic.refs[1:])
    assert [type(answer) for answer in answers if isinstance(answer, Exception)] == [NothingToRetry] * (CLIENTS - 1)
    assert len(locks) == 0


async def test_two_instances_cancelling_at_once_publish_the_same_event(publish):
    """Each instance has its own locks; the projection drops the second event by its id."""
    repo, synthetic = InMemoryProgressRepository(), SyntheticBatch(size=2, start=T0)
    await tell(repo, publish, [synthetic.created()])

    await asyncio.gather(*(commands.cancel_batch(synthetic.batch_id, repo, clock, publish, BatchLocks())
                           for _ in range(2)), return_exceptions=True)

    assert len({event.event_id for event in publish.of_type(BatchCancelled)}) == 1


async def test_two_instances_retrying_at_once_publish_the_same_events(publish):
    repo, synthetic = InMemoryProgressRepository(), SyntheticBatch(size=2, start=T0)
    await tell(repo, publish, synthetic.story("ff"))

    await asyncio.gather(*(commands.retry_failed_documents(synthetic.batch_id, repo, clock, publish, BatchLocks())
                           for _ in range(2)), return_exceptions=True)

    queued = publish.of_type(DocumentQueued)
    assert len(queued) == 4
    assert len({event.event_id for event in queued}) == 2


async def test_a_cancelled_batch_still_waiting_for_its_manifest_is_not_cancelled_again(repo, publish):
    synthetic = SyntheticBatch(size=2, start=T0)
    await tell(repo, publish, [synthetic.queued(0)])
    await commands.cancel_batch(synthetic.batch_id, repo, clock, publish, BatchLocks())

    with pytest.raises(BatchIsCancelled):
        await commands.cancel_batch(synthetic.batch_id, repo, clock, publish, BatchLocks())
    assert len(publish.of_type(BatchCancelled)) == 1


async def test_a_lock_is_dropped_once_nobody_holds_or_awaits_it():
    locks, batch_id = BatchLocks(), SyntheticBatch().batch_id
    async with locks.holding(batch_id):
        waiter = asyncio.create_task(_hold(locks, batch_id))
        await asyncio.sleep(0)
        assert len(locks) == 1 and not waiter.done()
    await waiter
    assert len(locks) == 0
    with pytest.raises(RuntimeError):
        async with locks.holding(batch_id):
            raise RuntimeError("a command that failed")
    assert len(locks) == 0


async def _hold(locks, batch_id):
    async with locks.holding(batch_id):
        pass
