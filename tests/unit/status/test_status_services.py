"""The use cases against an in-memory repository: once-only effects, completion, cancel, retry, sweep."""

from datetime import timedelta
from functools import partial

import pytest

from docintake.contracts.events import BatchCancelled, BatchCompleted, BatchCreated, DocumentFailed, DocumentQueued
from docintake.status.adapters.in_memory_progress_repository import InMemoryProgressRepository
from docintake.status.domain.refusals import BatchNotFound, EventNotPublished, NothingToRetry
from docintake.status.service_layer import commands, process_manager, queries
from docintake.status.service_layer.batch_locks import BatchLocks
from docintake.status.service_layer.projection import Outcome
from tests.support.status_events import T0
from tests.support.status_events import SyntheticBatch as AnySyntheticBatch
from tests.unit.status.status_fakes import RecordingPublisher

# The fold and the sweeper run on the events' own times: the batches start at T0, the clock a little later.
SyntheticBatch = partial(AnySyntheticBatch, start=T0)


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(seconds=10)

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
    return [await process_manager.apply_event(event, repo, publish) for event in events]


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

    await process_manager.publish_due_completions(repo, clock, publish, settle_seconds=0)
    assert len(publish.of_type(BatchCompleted)) == 1


async def test_a_completion_that_failed_to_publish_is_published_by_the_sweep(repo, clock, publish):
    synthetic = SyntheticBatch(size=1)
    publish.failing = True
    await apply_all(synthetic.story("i"), repo, clock, publish)
    assert not repo.batches[synthetic.batch_id].completion_published

    publish.failing = False
    await process_manager.publish_due_completions(repo, clock, publish, settle_seconds=0)

    assert [event.event_id for event in publish.of_type(BatchCompleted)] == [
        BatchCompleted.id_for(synthetic.batch_id)]


async def test_the_sweep_leaves_a_completion_being_announced_to_its_announcer(repo, clock, publish):
    """However far the events' own times lie behind: what the sweep finds unpublished for the first
    time may be in the middle of its announcement, by this status service or another one."""
    synthetic = SyntheticBatch(size=1)
    publish.failing = True  # the announcer's publish is under way: neither confirmed nor marked yet
    await apply_all(synthetic.story("i"), repo, clock, publish)
    publish.failing = False

    awaiting = await process_manager.publish_due_completions(repo, clock, publish, settle_seconds=0,
                                                             awaiting_before=set())
    assert awaiting == {synthetic.batch_id} and not publish.of_type(BatchCompleted)
    await process_manager.announce_completion(await repo.get(synthetic.batch_id), repo, publish)
    assert await process_manager.publish_due_completions(repo, clock, publish, settle_seconds=0,
                                                         awaiting_before=awaiting) == set()

    assert len(publish.of_type(BatchCompleted)) == 1


async def test_a_completion_unpublished_for_a_whole_round_is_published_by_the_next(repo, clock, publish):
    synthetic = SyntheticBatch(size=1)
    publish.failing = True
    await apply_all(synthetic.story("i"), repo, clock, publish)
    publish.failing = False

    awaiting = await process_manager.publish_due_completions(repo, clock, publish, settle_seconds=0,
                                                             awaiting_before=set())
    await process_manager.publish_due_completions(repo, clock, publish, settle_seconds=0, awaiting_before=awaiting)

    assert [event.event_id for event in publish.of_type(BatchCompleted)] == [
        BatchCompleted.id_for(synthetic.batch_id)]
    assert repo.batches[synthetic.batch_id].completion_published


async def test_completion_events_are_ignored_by_the_projection(repo, clock, publish):
    synthetic = SyntheticBatch(size=1)
    await apply_all(synthetic.story("i"), repo, clock, publish)
    [completion] = publish.of_type(BatchCompleted)
    assert await process_manager.apply_event(completion, repo, publish) is Outcome.IGNORED


async def test_cancel_publishes_and_applies_batch_cancelled(repo, clock, publish):
    synthetic = SyntheticBatch(size=2)
    await apply_all([synthetic.created(), synthetic.ingested(0)], repo, clock, publish)

    batch = await commands.cancel_batch(synthetic.batch_id, repo, clock, publish, BatchLocks())

    [cancelled] = publish.of_type(BatchCancelled)
    assert batch.status == "cancelled"
    assert await process_manager.apply_event(cancelled, repo, publish) is Outcome.DUPLICATE
    assert publish.of_type(BatchCompleted)[0].data.status == "cancelled"


async def test_retry_publishes_the_next_attempt_with_the_uploaded_document(repo, clock, publish):
    synthetic = SyntheticBatch(size=2)
    await apply_all(synthetic.story("ff"), repo, clock, publish)

    batch = await commands.retry_failed_documents(synthetic.batch_id, repo, clock, publish, BatchLocks())

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
        await commands.retry_failed_documents(synthetic.batch_id, repo, clock, publish, BatchLocks())
    with pytest.raises(BatchNotFound):
        await queries.batch_status(SyntheticBatch().batch_id, repo, clock)


async def test_the_sweep_times_out_stalled_documents_and_completes_the_batch(repo, clock, publish):
    # Adapted: the document is queued, so that it times out (a listed, never queued one is NOT_QUEUED).
    synthetic = SyntheticBatch(size=2)
    await apply_all([synthetic.created(), synthetic.queued(1), synthetic.ingested(0)], repo, clock, publish)

    clock.now += timedelta(seconds=30)
    assert await process_manager.sweep_stalled_documents(repo, clock, publish, timeout_seconds=20) == 1

    status = await queries.batch_status(synthetic.batch_id, repo, clock)
    assert status.status == "partial_failure"
    assert status.failed_documents[0].error_code == "TIMED_OUT"
    assert publish.of_type(BatchCompleted)[0].data.status == "partial_failure"


async def test_a_late_real_outcome_replaces_a_timeout_and_the_batch_announces_again(repo, clock, publish):
    synthetic = SyntheticBatch(size=2)
    await apply_all([synthetic.created(), synthetic.queued(1), synthetic.ingested(0)], repo, clock, publish)
    clock.now += timedelta(seconds=30)
    await process_manager.sweep_stalled_documents(repo, clock, publish, timeout_seconds=20)

    await apply_all([synthetic.ingested(1)], repo, clock, publish)

    status = await queries.batch_status(synthetic.batch_id, repo, clock)
    assert (status.status, status.processed_count, status.failed_documents) == ("completed", 2, [])
    assert [(event.data.status, event.data.completion_round) for event in publish.of_type(BatchCompleted)] == [
        ("partial_failure", 0), ("completed", 1)]


async def test_a_retry_the_broker_did_not_confirm_changes_nothing_and_can_be_repeated(repo, clock, publish):
    # Adapted: a retry is its published DocumentQueued; unconfirmed, nothing changed (no NOT_QUEUED edit).
    synthetic = SyntheticBatch(size=2)
    await apply_all(synthetic.story("if"), repo, clock, publish)

    publish.failing = True
    with pytest.raises(EventNotPublished):
        await commands.retry_failed_documents(synthetic.batch_id, repo, clock, publish, BatchLocks())
    status = await queries.batch_status(synthetic.batch_id, repo, clock)
    assert (status.status, [doc.error_code for doc in status.failed_documents]) == ("partial_failure", ["PARSE_ERROR"])

    publish.failing = False
    await commands.retry_failed_documents(synthetic.batch_id, repo, clock, publish, BatchLocks())
    assert [event.data.attempt for event in publish.of_type(DocumentQueued)] == [2]


async def test_pending_bytes_count_unfinished_documents(repo, clock, publish):
    synthetic = SyntheticBatch(size=3)
    await apply_all([synthetic.created(), synthetic.ingested(0)], repo, clock, publish)
    pending = await process_manager.pending_bytes(repo)
    assert (pending.pending_bytes, pending.pending_documents) == (2000, 2)


async def test_the_sweep_publishes_its_verdicts_and_a_second_sweep_only_duplicates(repo, clock, publish):
    synthetic = SyntheticBatch(size=3)
    await apply_all([synthetic.created(), synthetic.queued(0), synthetic.ingested(2)], repo, clock, publish)
    clock.now += timedelta(seconds=30)

    assert await process_manager.sweep_stalled_documents(repo, clock, publish, timeout_seconds=20) == 2
    verdicts = publish.of_type(DocumentFailed)
    assert {(event.document_id, event.data.error_code) for event in verdicts} == {
        (synthetic.refs[0].document_id, "TIMED_OUT"), (synthetic.refs[1].document_id, "NOT_QUEUED")}
    # The copies the projection receives from the queue change nothing.
    assert [await process_manager.apply_event(event, repo, publish) for event in verdicts] == [Outcome.DUPLICATE] * 2

    clock.now += timedelta(seconds=30)
    assert await process_manager.sweep_stalled_documents(repo, clock, publish, timeout_seconds=20) == 0
    status = await queries.batch_status(synthetic.batch_id, repo, clock)
    assert (status.status, status.processed_count, status.failed_count) == ("partial_failure", 1, 2)


async def test_a_batch_whose_batch_created_never_came_is_closed_by_a_published_batch_created(repo, clock, publish):
    synthetic = SyntheticBatch(size=2)
    first = synthetic.queued(0)
    await apply_all([first, synthetic.ingested(0)], repo, clock, publish)
    clock.now += timedelta(seconds=30)

    await process_manager.sweep_stalled_documents(repo, clock, publish, timeout_seconds=20)

    [assumed] = publish.of_type(BatchCreated)
    assert [ref.document_id for ref in assumed.data.documents] == [synthetic.refs[0].document_id]
    assert assumed.data.warnings
    status = await queries.batch_status(synthetic.batch_id, repo, clock)
    assert (status.status, status.total_documents, status.created_at) == ("completed", 1, first.occurred_at)


async def test_a_publish_that_fails_leaves_the_sweep_to_the_next_round(repo, clock, publish):
    synthetic = SyntheticBatch(size=1)
    await apply_all([synthetic.created(), synthetic.queued(0)], repo, clock, publish)
    clock.now += timedelta(seconds=30)
    publish.failing = True
    assert await process_manager.sweep_stalled_documents(repo, clock, publish, timeout_seconds=20) == 0
    assert (await queries.batch_status(synthetic.batch_id, repo, clock)).status == "in_progress"

    publish.failing = False
    assert await process_manager.sweep_stalled_documents(repo, clock, publish, timeout_seconds=20) == 1
