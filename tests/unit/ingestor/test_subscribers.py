"""The subscribers' decisions on an in-memory broker: handle, retry later, give up, drop unreadable.

TestRabbitBroker acks, requeues and rejects nothing for real, so these tests watch what the
subscriber asked for (RabbitMessage.ack / reject) and what it published; the real broker's
redelivery counts and dead-lettering are for tests/ingestor.
"""

import json
from unittest.mock import ANY, call, patch
from uuid import uuid4

import pytest
from faststream.rabbit import TestRabbitBroker
from faststream.rabbit.message import RabbitMessage
from pydantic import ValidationError

from docintake.contracts.events import DEFAULT_TENANT, BatchCancelled, BatchCancelledData, DocumentQueued
from docintake.contracts.topology import DELIVERY_LIMIT, LANE_HEADER, lane_of
from docintake.ingestor.domain.failures import STORAGE_UNAVAILABLE
from docintake.ingestor.domain.outcomes import outcome_id
from docintake.ingestor.entrypoints.subscribers import broker, document_failed, document_ingested
from docintake.ingestor.service_layer.ports import Dependencies
from docintake.ingestor.settings import IngestorSettings
from docintake.platform.errors import StorageUnavailable
from docintake.platform.topology import EVENTS_EXCHANGE, INGESTOR_LANES_EXCHANGE, INGESTOR_QUEUE
from tests.unit.ingestor.fakes import FakeGraph, FakeStorage, parser, queued

DELIVERED = "x-delivery-count"  # the header a quorum queue sets on a redelivery


@pytest.fixture
async def deps(tmp_path):
    dependencies = Dependencies(storage=FakeStorage(), graph=FakeGraph(), parse=parser(), work_dir=tmp_path)
    broker.context.set_global("dependencies", dependencies)
    broker.context.set_global("settings", IngestorSettings(retry_backoff_max_seconds=0))
    async with TestRabbitBroker(broker):
        yield dependencies


class Settlement:
    """What the subscribers asked the broker to do with the messages delivered to them (not with
    the copies of published outcomes that TestRabbitBroker hands to the publishers' mocks)."""

    def __init__(self, ack, reject):
        self._ack, self._reject = ack, reject

    @staticmethod
    def _of_deliveries(mock) -> list:
        return [c for c in mock.call_args_list if c.args[0].headers.get(DELIVERED) is not None]

    @property
    def acks(self) -> list:
        return self._of_deliveries(self._ack)

    @property
    def rejects(self) -> list:
        return self._of_deliveries(self._reject)


@pytest.fixture
def settled():
    with patch.object(RabbitMessage, "ack", autospec=True) as ack, \
            patch.object(RabbitMessage, "reject", autospec=True) as reject:
        yield Settlement(ack, reject)


async def deliver(event_or_body, delivery: int = 1, routing_key: str = DocumentQueued.routing_key, **where) -> None:
    """The message as the queue hands it over on its `delivery`-th delivery; a queued document (or a body
    sent as one) on the default tenant's lane, as the lanes exchange routes it."""
    body = event_or_body.to_json() if hasattr(event_or_body, "to_json") else event_or_body
    headers: dict = {DELIVERED: delivery - 1}
    if where:
        where = {"exchange": EVENTS_EXCHANGE, **where}
    elif routing_key == DocumentQueued.routing_key:
        where = {"exchange": INGESTOR_LANES_EXCHANGE}
        headers[LANE_HEADER] = str(lane_of(DEFAULT_TENANT))
    else:
        where = {"exchange": EVENTS_EXCHANGE, "routing_key": routing_key}
    await broker.publish(body, content_type="application/json", headers=headers, **where)


async def test_a_queued_document_is_ingested_its_outcome_published_and_its_message_acked(deps, settled):
    event = queued()

    await deliver(event)

    document_ingested.mock.assert_called_once_with(ANY)
    published = document_ingested.mock.call_args.args[0]
    assert published["event_id"] == str(outcome_id(event)) and published["data"]["detected_type"] == "markdown"
    assert [batch_id for _, batch_id, *_ in deps.graph.written] == [str(event.batch_id)]
    document_failed.mock.assert_not_called()
    assert len(settled.acks) == 1 and settled.rejects == []


async def test_a_transient_failure_below_the_delivery_limit_is_requeued(deps, settled):
    deps.storage.failure = StorageUnavailable("object storage unavailable: connection refused")

    await deliver(queued(), delivery=DELIVERY_LIMIT - 1)

    assert settled.rejects == [call(ANY, requeue=True)] and settled.acks == []
    document_ingested.mock.assert_not_called()
    document_failed.mock.assert_not_called()


async def test_a_transient_failure_at_the_delivery_limit_publishes_document_failed_and_dead_letters(deps, settled):
    deps.storage.failure = StorageUnavailable("object storage unavailable: connection refused")
    event = queued()

    await deliver(event, delivery=DELIVERY_LIMIT)

    document_failed.mock.assert_called_once_with(ANY)
    data = document_failed.mock.call_args.args[0]["data"]
    assert data["error_code"] == STORAGE_UNAVAILABLE and data["retryable"] is True
    assert data["attempts"] == DELIVERY_LIMIT and f"gave up after {DELIVERY_LIMIT} attempts" in data["message"]
    assert settled.rejects == [call(ANY, requeue=False)] and settled.acks == []


async def test_a_cancellation_marks_the_batch_at_once_and_skips_its_queued_documents(deps, settled):
    event = queued()
    cancellation = BatchCancelled(batch_id=event.batch_id, data=BatchCancelledData())

    await deliver(cancellation, routing_key=BatchCancelled.routing_key)  # to this process's cancellation queue
    await deliver(event)

    assert deps.graph.cancelled == {str(event.batch_id)}
    assert deps.graph.written == []
    document_ingested.mock.assert_not_called()
    document_failed.mock.assert_not_called()


async def test_the_work_queues_copy_of_a_cancellation_marks_the_batch(deps, settled):
    cancellation = BatchCancelled(batch_id=uuid4(), data=BatchCancelledData())

    await deliver(cancellation, queue=INGESTOR_QUEUE)

    assert deps.graph.cancelled == {str(cancellation.batch_id)}
    assert len(settled.acks) == 1


@pytest.mark.parametrize(
    ("body", "raised"),
    [
        (b"not json at all", json.JSONDecodeError),
        # A lane carries queued documents only: anything else there is not one.
        (json.dumps({"event_type": "docintake.document.mystery"}).encode(), ValidationError),
        (json.dumps({"event_type": "docintake.document.queued", "batch_id": "x"}).encode(), ValidationError),
    ],
)
async def test_an_unreadable_message_is_rejected_without_requeue(deps, settled, body, raised):

    with pytest.raises(raised):
        await deliver(body)

    assert settled.rejects == [call(ANY)] and settled.acks == []  # requeue=False by default: to dead letters
    assert deps.graph.written == []
