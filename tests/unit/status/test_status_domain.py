"""The pure progress model: ordering, duplicates, forward-only states, derived status and estimate."""

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docintake.status.domain import views
from docintake.status.domain.completion import completion_event
from docintake.status.domain.progress import NOT_QUEUED, TIMED_OUT, Batch, DocumentState
from docintake.status.domain.refusals import BatchAlreadyFinished, BatchIsCancelled, NothingToRetry
from docintake.status.domain.retry import retry_events
from docintake.status.domain.stall import stall_verdicts
from tests.support.status_events import T0, SyntheticBatch

NOW = T0 + timedelta(hours=1)


def fold(batch_id, events) -> Batch:
    batch = Batch(batch_id)
    for event in events:
        batch.apply(event)
    return batch


def retry(batch: Batch) -> list:
    """Apply the retry's events, as the projection does; the documents retried."""
    events = retry_events(batch, NOW)
    for event in events:
        batch.apply(event)
    return [batch.documents[event.document_id] for event in events]


def sweep(batch: Batch, now, timeout_seconds) -> list:
    """Apply the stall sweeper's verdicts, as the projection does; the documents failed."""
    verdicts = stall_verdicts(batch, now, timeout_seconds)
    for verdict in verdicts:
        batch.apply(verdict)
    return [batch.documents[verdict.document_id] for verdict in verdicts if verdict.document_id is not None]


def without_announcements(batch: Batch) -> Batch:
    return replace(batch, completion_round=0, completion_published=False)


@st.composite
def batch_histories(draw):
    """A batch's events: BatchCreated, then per document one or more attempts (queued + outcome);
    every attempt but the last failed. Returns the events and each document's expected final state."""
    documents = draw(st.integers(min_value=1, max_value=5))
    synthetic = SyntheticBatch(size=documents, start=T0)
    events = [synthetic.created()]
    expected = {}
    for index, ref in enumerate(synthetic.refs):
        attempts = draw(st.integers(min_value=1, max_value=3))
        for attempt in range(1, attempts + 1):
            events.append(synthetic.queued(index, attempt))
            last_ingested = attempt == attempts and draw(st.booleans())
            change = draw(st.sampled_from(["added", "replaced", "unchanged"]))
            events.append(synthetic.ingested(index, attempt, change=change) if last_ingested
                          else synthetic.failed(index, attempt))
        expected[ref.document_id] = (attempts, (DocumentState.UNCHANGED if change == "unchanged"
                                                else DocumentState.INGESTED) if last_ingested else DocumentState.FAILED)
    return synthetic.batch_id, events, expected


@st.composite
def delivered(draw, history):
    """The events as a broker may deliver them: some duplicated, all in any order."""
    batch_id, events, expected = history
    duplicates = draw(st.lists(st.sampled_from(events), max_size=len(events)))
    return batch_id, events, draw(st.permutations(events + duplicates)), expected


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_order_and_duplication_converges_to_the_same_record(data):
    batch_id, events, delivery, expected = data.draw(batch_histories().flatmap(delivered))

    in_order = fold(batch_id, events)
    reordered = fold(batch_id, delivery)

    # How often the outcome was announced on the way depends on the order; the record does not.
    assert without_announcements(reordered) == without_announcements(in_order)
    assert {item.document_id: (item.attempt, item.state) for item in reordered.documents.values()} == expected
    assert reordered.created_at == T0
    assert reordered.is_finished


def test_states_only_move_forward_within_an_attempt():
    synthetic = SyntheticBatch(size=1)
    batch = fold(synthetic.batch_id, [synthetic.created(), synthetic.ingested(0)])

    for late in (synthetic.queued(0), synthetic.failed(0)):
        batch.apply(late)

    item = batch.documents[synthetic.refs[0].document_id]
    assert item.state is DocumentState.INGESTED
    assert item.error is None
    assert batch.status == "completed"


def test_first_terminal_state_of_an_attempt_wins():
    synthetic = SyntheticBatch(size=1)
    batch = fold(synthetic.batch_id, [synthetic.created(), synthetic.failed(0), synthetic.ingested(0)])
    assert batch.documents[synthetic.refs[0].document_id].state is DocumentState.FAILED


def test_a_newer_attempt_starts_over_and_an_older_one_is_ignored():
    synthetic = SyntheticBatch(size=1)
    document_id = synthetic.refs[0].document_id
    batch = fold(synthetic.batch_id, [synthetic.created(), synthetic.failed(0, attempt=1)])

    batch.apply(synthetic.queued(0, attempt=2))
    item = batch.documents[document_id]
    assert (item.attempt, item.state, item.error) == (2, DocumentState.QUEUED, None)
    assert batch.status == "in_progress"

    batch.apply(synthetic.ingested(0, attempt=1))  # a late event of the first attempt
    assert item.state is DocumentState.QUEUED

    batch.apply(synthetic.ingested(0, attempt=2))
    assert (item.attempt, item.state) == (2, DocumentState.INGESTED)
    assert batch.status == "completed"


def test_a_terminal_event_of_a_newer_attempt_alone_finishes_that_attempt():
    synthetic = SyntheticBatch(size=1)
    batch = fold(synthetic.batch_id, [synthetic.created(), synthetic.failed(0), synthetic.ingested(0, attempt=2)])
    item = batch.documents[synthetic.refs[0].document_id]
    assert (item.attempt, item.state) == (2, DocumentState.INGESTED)


@pytest.mark.parametrize(("outcomes", "status", "counts"), [
    ("iii", "completed", (3, 0, 0)),
    ("iif", "partial_failure", (2, 1, 0)),
    ("fff", "failed", (0, 3, 0)),
])
def test_status_of_a_finished_batch(outcomes, status, counts):
    synthetic = SyntheticBatch(size=len(outcomes))
    batch = fold(synthetic.batch_id, synthetic.story(outcomes))
    assert batch.status == status
    assert (batch.counts.ingested, batch.counts.failed, batch.counts.cancelled) == counts
    assert batch.counts.pending == 0
    assert batch.completed_at == max(item.finished_at for item in batch.documents.values())


def test_cancelling_cancels_the_unfinished_documents_and_the_batch():
    synthetic = SyntheticBatch(size=3)
    batch = fold(synthetic.batch_id, [synthetic.created(), synthetic.ingested(0), synthetic.cancelled()])

    assert batch.status == "cancelled"
    assert (batch.counts.ingested, batch.counts.cancelled, batch.counts.pending) == (1, 2, 0)

    batch.apply(synthetic.ingested(1))  # work that finished after the cancel does not count
    assert batch.counts.cancelled == 2


def test_a_cancel_arriving_before_batch_created_still_cancels_its_documents():
    synthetic = SyntheticBatch(size=2)
    batch = fold(synthetic.batch_id, [synthetic.cancelled(), synthetic.created()])
    assert batch.status == "cancelled"
    assert batch.counts.cancelled == 2


def test_a_finished_batch_ignores_a_cancel_and_refuses_one():
    synthetic = SyntheticBatch(size=1)
    batch = fold(synthetic.batch_id, synthetic.story("i"))
    batch.apply(synthetic.cancelled())
    assert batch.status == "completed"
    with pytest.raises(BatchAlreadyFinished):
        batch.check_cancellable()


def test_a_batch_known_only_from_document_events_is_in_progress():
    synthetic = SyntheticBatch(size=2)
    batch = fold(synthetic.batch_id, [synthetic.ingested(0), synthetic.ingested(1)])
    assert batch.status == "in_progress"
    assert batch.counts.ingested == 2
    assert batch.created_at == min(item.finished_at for item in batch.documents.values())


def test_estimate_is_none_until_a_document_finished_and_once_the_batch_finished():
    synthetic = SyntheticBatch(size=4, start=T0)
    batch = fold(synthetic.batch_id, [synthetic.created(), synthetic.queued(0)])
    assert batch.estimated_completion(NOW) is None

    batch.apply(synthetic.ingested(0, at=T0 + timedelta(seconds=10)))
    now = T0 + timedelta(seconds=10)
    # one document in 10 s, three to go
    assert batch.estimated_completion(now) == now + timedelta(seconds=30)

    for index in (1, 2, 3):
        batch.apply(synthetic.ingested(index))
    assert batch.estimated_completion(NOW) is None


def test_retry_queues_failed_documents_again_and_the_batch_can_finish_again():
    synthetic = SyntheticBatch(size=2)
    batch = fold(synthetic.batch_id, synthetic.story("if"))
    batch.mark_completion_published(0)
    assert batch.status == "partial_failure"

    retried = retry(batch)

    assert [item.document_id for item in retried] == [synthetic.refs[1].document_id]
    assert (retried[0].attempt, retried[0].state) == (2, DocumentState.QUEUED)
    assert batch.status == "in_progress"
    assert (batch.completion_round, batch.completion_published) == (1, False)

    batch.apply(synthetic.ingested(1, attempt=2))
    assert batch.status == "completed"
    assert batch.completion_due


def test_retry_refuses_when_nothing_failed_or_the_batch_was_cancelled():
    synthetic = SyntheticBatch(size=1)
    with pytest.raises(NothingToRetry):
        retry_events(fold(synthetic.batch_id, synthetic.story("i")), NOW)
    with pytest.raises(BatchIsCancelled):
        retry_events(fold(synthetic.batch_id, [synthetic.created(), synthetic.cancelled()]), NOW)


def test_a_completion_marked_after_the_batch_reopened_opens_the_next_round():
    synthetic = SyntheticBatch(size=1)
    batch = fold(synthetic.batch_id, synthetic.story("f"))
    retry(batch)  # reopened while round 0's completion was still being published
    batch.mark_completion_published(0)
    assert (batch.completion_round, batch.completion_published) == (1, False)


def test_stalled_documents_time_out_and_the_batch_finishes():
    # Adapted: the sweeper's verdicts are events now, and the stall clock runs on the events' own times.
    synthetic = SyntheticBatch(size=2, start=T0)
    created_at = T0
    batch = fold(synthetic.batch_id, [synthetic.created(), synthetic.queued(1, at=T0), synthetic.ingested(0)])

    assert sweep(batch, created_at + timedelta(seconds=5), timeout_seconds=10) == []

    later = created_at + timedelta(seconds=11)
    timed_out = sweep(batch, later, timeout_seconds=10)

    assert [item.document_id for item in timed_out] == [synthetic.refs[1].document_id]
    assert (timed_out[0].error, timed_out[0].error_code) == ("timed out: no progress for 10 s", TIMED_OUT)
    assert batch.status == "partial_failure"


def test_a_listed_document_whose_document_queued_never_came_fails_as_not_queued():
    synthetic = SyntheticBatch(size=2, start=T0)
    batch = fold(synthetic.batch_id, [synthetic.created(), synthetic.queued(0, at=T0)])

    verdicts = stall_verdicts(batch, T0 + timedelta(seconds=11), timeout_seconds=10)

    assert {(verdict.document_id, verdict.data.error_code) for verdict in verdicts} == {
        (synthetic.refs[0].document_id, TIMED_OUT), (synthetic.refs[1].document_id, NOT_QUEUED)}
    # A later sweep of the same stall says the same under the same ids: duplicates for every consumer.
    assert [v.event_id for v in stall_verdicts(batch, T0 + timedelta(seconds=30), 10)] == [
        v.event_id for v in verdicts]
    for verdict in verdicts:
        batch.apply(verdict)
    assert (batch.status, batch.counts.failed) == ("failed", 2)
    assert "not queued" in batch.documents[synthetic.refs[1].document_id].error


def test_a_real_outcome_replaces_a_presumed_failure_in_any_order():
    synthetic = SyntheticBatch(size=1, start=T0)
    queued = [synthetic.created(), synthetic.queued(0, at=T0)]
    [timed_out] = stall_verdicts(fold(synthetic.batch_id, queued), T0 + timedelta(seconds=11), 10)
    ingested = synthetic.ingested(0, at=T0 + timedelta(seconds=20))

    for events in (queued + [timed_out, ingested], queued + [ingested, timed_out]):
        batch = fold(synthetic.batch_id, events)
        assert (batch.status, batch.counts.ingested) == ("completed", 1)


def test_a_batch_whose_batch_created_never_came_is_closed_by_the_sweeper():
    # Adapted: the sweeper publishes a BatchCreated of the documents seen, which the fold takes like any.
    synthetic = SyntheticBatch(size=2, start=T0)
    batch = fold(synthetic.batch_id, [synthetic.ingested(0)])
    sweep(batch, T0 + timedelta(seconds=11), timeout_seconds=10)
    assert batch.status == "completed"
    assert batch.counts.total == 1


def test_a_finished_batch_whose_outcome_changes_announces_again():
    synthetic = SyntheticBatch(size=1)
    batch = fold(synthetic.batch_id, synthetic.story("f"))
    batch.mark_completion_published(0)

    batch.apply(synthetic.ingested(0, attempt=2))  # failed -> completed without passing in_progress

    assert batch.status == "completed"
    assert (batch.completion_round, batch.completion_due) == (1, True)
    batch.apply(synthetic.ingested(0, attempt=2))
    assert batch.completion_round == 1


def test_each_document_says_whether_it_was_ingested_updated_or_unchanged_and_unchanged_is_counted_apart():
    synthetic = SyntheticBatch(size=4)
    batch = fold(synthetic.batch_id, [
        synthetic.created(), synthetic.ingested(0, change="added"), synthetic.ingested(1, change="replaced"),
        synthetic.ingested(2, change="unchanged"), synthetic.failed(3)])

    outcomes = {entry.filename: entry.outcome for entry in views.batch_status(batch, synthetic.start).documents}
    assert outcomes == {"doc-000.txt": "ingested", "doc-001.txt": "updated", "doc-002.txt": "unchanged",
                        "doc-003.txt": "failed"}
    status = views.batch_status(batch, synthetic.start)
    assert (status.processed_count, status.unchanged_count, status.failed_count) == (2, 1, 1)
    assert status.status == "partial_failure" and completion_event(batch).data.unchanged_count == 1


def test_a_batch_of_unchanged_documents_is_completed():
    synthetic = SyntheticBatch(size=2)
    unchanged = [synthetic.ingested(index, change="unchanged") for index in (0, 1)]
    batch = fold(synthetic.batch_id, [synthetic.created(), *unchanged])

    assert batch.status == "completed" and batch.counts.pending == 0
    assert views.batch_status(batch, synthetic.start).processed_count == 0
