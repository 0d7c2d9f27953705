"""The projection subscriber's decisions, through FastStream's test broker: apply, ignore an unknown
event type, reject an unreadable body without requeueing it, wait out a store outage."""

import pytest
from faststream.rabbit import TestRabbitBroker
from faststream.rabbit.message import RabbitMessage
from prometheus_client import REGISTRY

from docintake.platform.topology import EVENTS_EXCHANGE, STATUS_QUEUE
from docintake.status import bootstrap
from docintake.status.adapters.in_memory_progress_repository import InMemoryProgressRepository
from docintake.status.entrypoints import projection_subscriber
from docintake.status.entrypoints.metrics import EVENTS_APPLIED, EVENTS_OF_QUARANTINED_BATCHES, MESSAGES_REJECTED
from docintake.status.settings import StatusSettings
from tests.support.status_events import SyntheticBatch
from tests.unit.status.status_fakes import FlakyRepository


class Settlements:
    """How the subscriber settled the test broker's messages."""

    def __init__(self, monkeypatch) -> None:
        self.calls: list[tuple[str, bool | None]] = []

        async def ack(message, multiple=False):
            self.calls.append(("ack", None))

        async def nack(message, multiple=False, requeue=True):
            self.calls.append(("nack", requeue))

        async def reject(message, requeue=False):
            self.calls.append(("reject", requeue))

        for name, settle in (("ack", ack), ("nack", nack), ("reject", reject)):
            monkeypatch.setattr(RabbitMessage, name, settle)


@pytest.fixture
def settlements(monkeypatch):
    return Settlements(monkeypatch)


async def deliver(rabbit, body: bytes) -> None:
    """As the status queue would hand it over, whatever the event's routing key."""
    await rabbit.publish(body, exchange=EVENTS_EXCHANGE, routing_key=STATUS_QUEUE.routing_key)


async def project(repo, *bodies: bytes) -> None:
    async with TestRabbitBroker(projection_subscriber.broker) as rabbit:
        bootstrap.build(StatusSettings(), repo, projection_subscriber.broker)
        for body in bodies:
            await deliver(rabbit, body)


async def test_an_event_is_applied_and_acknowledged(settlements):
    repo, synthetic = InMemoryProgressRepository(), SyntheticBatch(size=2)
    applied_before = EVENTS_APPLIED.labels(event_type="docintake.batch.created")._value.get()

    await project(repo, synthetic.created().to_json(), synthetic.ingested(0).to_json())

    batch = repo.batches[synthetic.batch_id]
    assert (batch.counts.total, batch.counts.ingested) == (2, 1)
    assert settlements.calls == [("ack", None), ("ack", None)]
    assert EVENTS_APPLIED.labels(event_type="docintake.batch.created")._value.get() == applied_before + 1


async def test_an_unknown_event_type_is_acknowledged_and_ignored(settlements):
    repo = InMemoryProgressRepository()
    await project(repo, b'{"event_type": "docintake.batch.archived", "batch_id": "x"}')
    assert repo.batches == {}
    assert settlements.calls == [("ack", None)]


async def test_an_unreadable_body_is_rejected_without_requeue(settlements):
    rejected_before = MESSAGES_REJECTED.labels(reason="unreadable")._value.get()
    await project(InMemoryProgressRepository(), b"{this is not json")
    assert settlements.calls == [("reject", False)]
    assert MESSAGES_REJECTED.labels(reason="unreadable")._value.get() == rejected_before + 1


async def test_events_of_a_quarantined_batch_are_acknowledged_and_the_others_applied(settlements):
    repo, quarantined, healthy = InMemoryProgressRepository(), SyntheticBatch(size=2), SyntheticBatch(size=1)
    repo.quarantined[quarantined.batch_id] = "item 42 does not load back (ValidationError)"
    set_aside_before = EVENTS_OF_QUARANTINED_BATCHES._value.get()

    await project(repo, quarantined.created().to_json(), quarantined.ingested(0).to_json(),
                  healthy.created().to_json())

    assert settlements.calls == [("ack", None)] * 3
    assert EVENTS_OF_QUARANTINED_BATCHES._value.get() == set_aside_before + 2
    assert set(repo.batches) == {healthy.batch_id}


async def test_a_store_outage_is_waited_out_and_the_event_then_applied(settlements, monkeypatch):
    pauses = []

    async def no_sleep(seconds):
        pauses.append(seconds)

    monkeypatch.setattr(projection_subscriber.asyncio, "sleep", no_sleep)
    repo, synthetic = FlakyRepository(outage=3), SyntheticBatch(size=1)

    await project(repo, synthetic.created().to_json())

    assert synthetic.batch_id in repo.batches
    assert pauses == [1, 2, 4]
    assert settlements.calls == [("ack", None)]


async def test_every_message_is_counted_by_faststreams_prometheus_middleware(settlements):
    def received() -> float:
        return sum(sample.value for metric in REGISTRY.collect() for sample in metric.samples
                   if sample.name == "faststream_received_messages_total"
                   and sample.labels.get("app_name") == "docintake-status")

    before = received()
    await project(InMemoryProgressRepository(), SyntheticBatch(size=1).created().to_json(), b"{not json")
    assert received() == before + 2
