"""The use cases against an in-memory repository: once-only effects, completion, cancel, retry, sweep."""

from datetime import timedelta

import pytest

from docintake.contracts.events import BatchCancelled, BatchCompleted, DocumentQueued
from docintake.status import services
from docintake.status.domain import NothingToRetry
from docintake.status.repository import BatchNotFound
from docintake.status.services import Outcome
from tests.unit.status.status_events import T0, SyntheticBatch
from tests.unit.status.status_fakes import InMemoryProgressRepository, RecordingPublisher


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self):
        return self.now


@pytest.fixture
def repo():
    return InMemoryProgressRepository()


@pytest.fixture
def publish():
    return RecordingPublisher()


@pytest.fixture
def clock():
    return Clock()


async def apply_all(events, repo, clock, publish):
    return [await services.apply_event(event, repo, clock, publish) for event in events]


async def test_an_event_applies_once(repo, clock, publish):
    synthetic = SyntheticBatch(size=2)
    created = synthetic.created()
    assert await apply_all([created, created], repo, clock, publish) == [Outcome.APPLIED, Outcome.DUPLICATE]


async def test_completion_is_published_once_when_the_batch_finishes(repo, clock, publish):
    synthetic = SyntheticBatch(size=2)
    await apply_all(synthetic.story("if"), repo, clock, publish)

    [completion] = publish.of_type(BatchCompleted)
    assert completion.event_id == BatchCompleted.id_for(synthetic.batch_id)
    assert (completion.data.status, completion.data.processed_count, completion.data.failed_count) == (
        "partial_failure", 1, 1)
    assert repo.batches[synthetic.batch_id].completion_published

    await services.publish_due_completions(repo, clock, publish, settle_seconds=0)
    assert len(publish.of_type(BatchCompleted)) == 1


async def test_a_completion_that_failed_to_publish_is_published_by_the_sweep(repo, clock, publish):
    synthetic = SyntheticBatch(size=1)
    publish.failing = True
    await apply_all(synthetic.story("i"), repo, clock, publish)
    assert not repo.batches[synthetic.batch_id].completion_published

    publish.failing = False
    await services.publish_due_completions(repo, clock, publish, settle_seconds=0)

    assert [event.event_id for event in publish.of_type(BatchCompleted)] == [
        BatchCompleted.id_for(synthetic.batch_id)]


async def test_completion_events_are_ignored_by_the_projection(repo, clock, publish):
    synthetic = SyntheticBatch(size=1)
    await apply_all(synthetic.story("i"), repo, clock, publish)
    [completion] = publish.of_type(BatchCompleted)
    assert await services.apply_event(completion, repo, clock, publish) is Outcome.IGNORED


async def test_cancel_publishes_and_applies_batch_cancelled(repo, clock, publish):
    synthetic = SyntheticBatch(size=2)
    await apply_all([synthetic.created(), synthetic.ingested(0)], repo, clock, publish)

    batch = await services.cancel_batch(synthetic.batch_id, repo, clock, publish)

    [cancelled] = publish.of_type(BatchCancelled)
    assert batch.status == "cancelled"
    assert await services.apply_event(cancelled, repo, clock, publish) is Outcome.DUPLICATE
    assert publish.of_type(BatchCompleted)[0].data.status == "cancelled"


async def test_retry_publishes_the_next_attempt_with_the_uploaded_document(repo, clock, publish):
    synthetic = SyntheticBatch(size=2)
    await apply_all(synthetic.story("ff"), repo, clock, publish)

    batch = await services.retry_failed_documents(synthetic.batch_id, repo, clock, publish)

    queued = publish.of_type(DocumentQueued)
    assert batch.status == "in_progress"
    assert sorted((event.data.attempt, event.data.document.key) for event in queued) == sorted(
        (2, ref.key) for ref in synthetic.refs)

    await apply_all([synthetic.ingested(0, attempt=2), synthetic.ingested(1, attempt=2)], repo, clock, publish)
    completions = publish.of_type(BatchCompleted)
    assert [event.data.status for event in completions] == ["failed", "completed"]
    assert len({event.event_id for event in completions}) == 2


async def test_retry_without_failures_and_unknown_batches_are_refused(repo, clock, publish):
    synthetic = SyntheticBatch(size=1)
    await apply_all(synthetic.story("i"), repo, clock, publish)
    with pytest.raises(NothingToRetry):
        await services.retry_failed_documents(synthetic.batch_id, repo, clock, publish)
    with pytest.raises(BatchNotFound):
        await services.batch_status(SyntheticBatch().batch_id, repo, clock)


async def test_the_sweep_times_out_stalled_documents_and_completes_the_batch(repo, clock, publish):
    synthetic = SyntheticBatch(size=2)
    await apply_all([synthetic.created(), synthetic.ingested(0)], repo, clock, publish)

    clock.now += timedelta(seconds=30)
    assert await services.time_out_stalled_documents(repo, clock, publish, timeout_seconds=20) == 1

    status = await services.batch_status(synthetic.batch_id, repo, clock)
    assert status.status == "partial_failure"
    assert status.failed_documents[0].error_code == "TIMED_OUT"
    assert publish.of_type(BatchCompleted)[0].data.status == "partial_failure"


async def test_a_late_real_outcome_replaces_a_timeout_and_the_batch_announces_again(repo, clock, publish):
    synthetic = SyntheticBatch(size=2)
    await apply_all([synthetic.created(), synthetic.ingested(0)], repo, clock, publish)
    clock.now += timedelta(seconds=30)
    await services.time_out_stalled_documents(repo, clock, publish, timeout_seconds=20)

    await apply_all([synthetic.ingested(1)], repo, clock, publish)

    status = await services.batch_status(synthetic.batch_id, repo, clock)
    assert (status.status, status.processed_count, status.failed_documents) == ("completed", 2, [])
    assert [(event.data.status, event.data.completion_round) for event in publish.of_type(BatchCompleted)] == [
        ("partial_failure", 0), ("completed", 1)]


async def test_a_retry_the_broker_did_not_confirm_fails_again_and_can_be_repeated(repo, clock, publish):
    synthetic = SyntheticBatch(size=2)
    await apply_all(synthetic.story("if"), repo, clock, publish)

    publish.failing = True
    with pytest.raises(services.EventNotPublished):
        await services.retry_failed_documents(synthetic.batch_id, repo, clock, publish)
    status = await services.batch_status(synthetic.batch_id, repo, clock)
    assert (status.status, [doc.error_code for doc in status.failed_documents]) == ("partial_failure", ["NOT_QUEUED"])

    publish.failing = False
    await services.retry_failed_documents(synthetic.batch_id, repo, clock, publish)
    assert [event.data.attempt for event in publish.of_type(DocumentQueued)] == [3]


async def test_pending_bytes_count_unfinished_documents(repo, clock, publish):
    synthetic = SyntheticBatch(size=3)
    await apply_all([synthetic.created(), synthetic.ingested(0)], repo, clock, publish)
    pending = await services.pending_bytes(repo)
    assert (pending.pending_bytes, pending.pending_documents) == (2000, 2)
