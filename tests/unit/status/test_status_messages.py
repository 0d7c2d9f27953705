"""Reading message bodies, completion ids and the status view."""

from uuid import uuid4

import pytest

from docintake.contracts.events import BatchCompleted
from docintake.status.adapters.in_memory_progress_repository import InMemoryProgressRepository
from docintake.status.domain.completion import completion_event_id
from docintake.status.domain.paging import PageMark
from docintake.status.domain.progress import Batch
from docintake.status.domain.views import batch_status
from docintake.status.entrypoints import projection_subscriber as consumer
from docintake.status.entrypoints.projection_subscriber import UnknownEventType, UnreadableMessage, read_event
from docintake.status.service_layer.process_manager import apply_event
from docintake.status.service_layer.projection import Outcome
from tests.support.status_events import T0, SyntheticBatch
from tests.unit.status.status_fakes import FlakyRepository, RecordingPublisher


def test_an_event_body_is_read():
    event = SyntheticBatch().created()
    assert read_event(event.to_json()) == event


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"event_type": "docintake.batch.created"}', b'"x"'])
def test_a_body_that_is_not_an_event_is_unreadable(body):
    with pytest.raises(UnreadableMessage):
        read_event(body)


def test_an_event_of_an_unknown_type_is_recognised_as_such():
    with pytest.raises(UnknownEventType):
        read_event(b'{"event_type": "docintake.batch.archived", "batch_id": "x"}')


def test_the_first_completion_uses_the_contract_id_and_later_rounds_differ():
    batch_id = uuid4()
    ids = [completion_event_id(batch_id, completion_round) for completion_round in range(3)]
    assert ids[0] == BatchCompleted.id_for(batch_id)
    assert len(set(ids)) == 3


def test_status_view_lists_failed_documents_and_times():
    synthetic = SyntheticBatch(size=2, start=T0)
    batch = Batch(synthetic.batch_id)
    for event in synthetic.story("if"):
        batch.apply(event)

    status = batch_status(batch, T0)

    assert (status.status, status.processed_count, status.failed_count, status.pending_count) == (
        "partial_failure", 1, 1, 0)
    [failed] = status.failed_documents
    assert (failed.filename, failed.error, failed.error_code) == ("doc-001.txt", "could not parse", "PARSE_ERROR")
    assert status.processing_time_seconds == (status.completed_at - T0).total_seconds()
    assert status.estimated_completion_time is None


def test_page_marks_round_trip_and_foreign_cursors_are_refused():
    mark = PageMark(T0, uuid4())
    assert PageMark.decode(mark.encode()) == mark
    with pytest.raises(ValueError):
        PageMark.decode("not-a-cursor")


async def test_an_unreachable_store_is_waited_out_not_given_up(monkeypatch):
    pauses = []

    async def no_sleep(seconds):
        pauses.append(seconds)

    monkeypatch.setattr(consumer.asyncio, "sleep", no_sleep)
    repo, synthetic = FlakyRepository(outage=12), SyntheticBatch(size=1)
    outcome = await consumer.apply_until_stored(
        synthetic.created(), lambda event: apply_event(event, repo, RecordingPublisher()))

    assert outcome is Outcome.APPLIED and synthetic.batch_id in repo.batches
    assert pauses[:6] == [1, 2, 4, 8, 16, 30] and len(pauses) == 12  # past the queue's delivery limit of 10


async def test_a_store_error_that_is_not_transient_is_raised():
    class BrokenRepository(InMemoryProgressRepository):
        async def apply_once(self, event_ids, batch_id, change):
            raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        await consumer.apply_until_stored(
            SyntheticBatch(size=1).created(),
            lambda event: apply_event(event, BrokenRepository(), RecordingPublisher()))
