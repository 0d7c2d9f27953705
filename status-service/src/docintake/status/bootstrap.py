"""Builds what the entrypoints hand to the use cases: settings, the store, the broker, the clock,
the publisher, and the projection's per-batch grouping; and runs them while the service runs."""

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from faststream.rabbit import RabbitBroker

from docintake.contracts.events import BatchCompleted, Event, utcnow
from docintake.platform import messaging
from docintake.status.adapters.coalesced_reads import CoalescedReads
from docintake.status.adapters.event_broker import publishers
from docintake.status.adapters.neo4j_progress_repository import Neo4jProgressRepository
from docintake.status.adapters.per_batch_grouping import PerBatchGrouping
from docintake.status.entrypoints.metrics import COMPLETIONS_PUBLISHED
from docintake.status.entrypoints.projection_subscriber import PROJECTION, broker
from docintake.status.service_layer.batch_locks import BatchLocks
from docintake.status.service_layer.ports import Clock, ProgressRepository, Publish
from docintake.status.service_layer.process_manager import apply_and_announce
from docintake.status.service_layer.projection import Outcome
from docintake.status.settings import StatusSettings


@dataclass(frozen=True)
class Dependencies:
    settings: StatusSettings
    repo: ProgressRepository
    broker: RabbitBroker
    clock: Clock
    publish: Publish
    # Status reads the routes share with whoever asked the same a moment before.
    status_reads: CoalescedReads
    projection: PerBatchGrouping[Outcome]
    # Commands of one batch, one at a time.
    batch_locks: BatchLocks


def publisher() -> Publish:
    """Publish with the broker's confirm; counts the completions that went out."""
    async def publish(event: Event) -> None:
        await publishers.publish(event)
        if isinstance(event, BatchCompleted):
            COMPLETIONS_PUBLISHED.inc()

    return publish


def build(settings: StatusSettings, repo: ProgressRepository, rabbit: RabbitBroker = broker,
          clock: Clock = utcnow) -> Dependencies:
    publish = publisher()

    async def apply_group(events: Sequence[Event]) -> list[Outcome]:
        return await apply_and_announce(events, repo, publish)

    dependencies = Dependencies(
        settings=settings, repo=repo, broker=rabbit, clock=clock, publish=publish,
        status_reads=CoalescedReads(settings.status_read_max_age_seconds),
        projection=PerBatchGrouping(apply_group), batch_locks=BatchLocks(),
    )
    rabbit.context.set_global(PROJECTION, dependencies.projection)
    return dependencies


@asynccontextmanager
async def running(settings: StatusSettings) -> AsyncIterator[Dependencies]:
    """The store connected, the topology declared and the projection consuming; torn down in reverse."""
    async with AsyncExitStack() as stack:
        repo = Neo4jProgressRepository.connect(settings)
        stack.push_async_callback(repo.close)
        await repo.create_schema()
        dependencies = build(settings, repo)
        stack.push_async_callback(broker.stop)
        await broker.connect()
        await messaging.declare_topology(broker)
        await broker.start()
        yield dependencies


