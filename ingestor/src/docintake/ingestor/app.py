"""The ingestor's FastStream application: consume queued documents, emit what became of them."""

import asyncio
from contextlib import asynccontextmanager
from uuid import uuid4

import structlog
from faststream import AckPolicy, FastStream
from faststream.exceptions import RejectMessage
from faststream.rabbit import RabbitBroker, RabbitMessage, RabbitQueue

from docintake.contracts.events import BatchCancelled, DocumentQueued
from docintake.contracts.topology import DELIVERY_LIMIT, INGESTOR_QUEUE_NAME
from docintake.ingestor import metrics
from docintake.ingestor.graph import KnowledgeGraph
from docintake.ingestor.parser_pool import ParserPool
from docintake.ingestor.service import (
    BROKER_UNAVAILABLE,
    Dependencies,
    TransientFailure,
    failed,
    ingest_document,
)
from docintake.ingestor.settings import IngestorSettings
from docintake.platform.graphdb import open_driver
from docintake.platform.logging import get_logger
from docintake.platform.messaging import (
    backoff_seconds,
    declare_topology,
    deliveries_so_far,
    make_broker,
    publish,
)
from docintake.platform.storage import ObjectStore
from docintake.platform.topology import EVENTS_EXCHANGE, INGESTOR_QUEUE

log = get_logger(__name__)


def cancellation_queue() -> RabbitQueue:
    """This process's own queue of cancelled batches, gone with its connection.

    The work queue delivers a cancellation only behind the batch's own queued documents;
    this one delivers it at once, so those documents are skipped rather than ingested.
    """
    return RabbitQueue(
        f"{INGESTOR_QUEUE_NAME}.cancellations.{uuid4()}", exclusive=True, auto_delete=True,
        routing_key=BatchCancelled.routing_key,
    )


def create_app(settings: IngestorSettings | None = None) -> tuple[FastStream, RabbitBroker]:
    settings = settings or IngestorSettings()
    broker = make_broker(settings.rabbitmq_url, prefetch=settings.effective_prefetch)
    driver = open_driver(settings)
    graph = KnowledgeGraph(driver, settings.neo4j_database)
    store = ObjectStore(settings)
    pool: ParserPool | None = None

    def dependencies() -> Dependencies:
        assert pool is not None
        return Dependencies(
            storage=store, graph=graph, parse=pool.parse, work_dir=settings.work_dir,
            chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap,
            required_metadata=settings.required_fields,
        )

    @broker.subscriber(INGESTOR_QUEUE, EVENTS_EXCHANGE, ack_policy=AckPolicy.REJECT_ON_ERROR,
                       title="docintake.ingestor", description="Queued documents and cancelled batches")
    async def on_event(event: DocumentQueued | BatchCancelled, message: RabbitMessage) -> None:
        if isinstance(event, BatchCancelled):
            await cancel_batch(event)  # mostly done by on_cancellation already; not if no ingestor ran then
            return
        with structlog.contextvars.bound_contextvars(batch_id=str(event.batch_id), document_id=str(event.document_id)):
            await handle_document(event, deliveries_so_far(message) + 1)

    # Left out of the AsyncAPI document: a queue with a random name is no contract. Acked on arrival:
    # the work queue's copy of the event is the one that must not be lost.
    @broker.subscriber(cancellation_queue(), EVENTS_EXCHANGE, ack_policy=AckPolicy.ACK_FIRST,
                       include_in_schema=False)
    async def on_cancellation(event: BatchCancelled) -> None:
        await cancel_batch(event)

    async def cancel_batch(event: BatchCancelled) -> None:
        with structlog.contextvars.bound_contextvars(batch_id=str(event.batch_id), document_id=None):
            await graph.mark_cancelled(str(event.batch_id))
            log.info("batch cancelled; its remaining documents will be skipped")

    async def handle_document(event: DocumentQueued, delivery: int) -> None:
        try:
            outcome = await ingest_document(event, dependencies())
            if outcome is None:
                metrics.DOCUMENTS.labels("skipped").inc()
                return
            await announce(outcome)
        except TransientFailure as exc:
            await retry_later_or_give_up(event, exc, delivery)
            return
        metrics.DOCUMENTS.labels("ingested" if outcome.routing_key == "document.ingested" else "failed").inc()
        if outcome.routing_key == "document.failed":
            log.info("document failed", error_code=outcome.data.error_code, error=outcome.data.message)

    async def announce(outcome) -> None:
        """Publish the outcome; one the broker did not confirm is redone later (same event id, same graph)."""
        try:
            await publish(broker, outcome)
        except Exception as exc:  # noqa: BLE001 - whatever the broker client raised, the outcome is not out
            raise TransientFailure(BROKER_UNAVAILABLE, f"Message broker did not confirm the outcome: {exc!r}") from exc

    async def retry_later_or_give_up(event: DocumentQueued, exc: TransientFailure, delivery: int) -> None:
        if delivery < DELIVERY_LIMIT:
            delay = backoff_seconds(delivery, settings.retry_backoff_max_seconds)
            log.warning("transient failure; will retry", error=exc.message, delivery=delivery, retry_in=delay)
            metrics.RETRIES.labels(exc.code).inc()
            await asyncio.sleep(delay)
            raise RejectMessage(requeue=True) from None
        log.error("giving up after repeated transient failures", error=exc.message, delivery=delivery)
        await publish(broker, failed(
            event, exc.code, f"{exc.message} (gave up after {delivery} attempts)", retryable=True, attempts=delivery,
        ))
        metrics.DOCUMENTS.labels("failed").inc()
        raise RejectMessage(requeue=False) from None  # to docintake.dead-letters

    @asynccontextmanager
    async def lifespan():
        nonlocal pool
        pool = ParserPool(settings.workers, settings.parse_timeout_seconds, settings.max_expanded_bytes)
        await pool.start()
        await graph.ensure_schema()
        await store.ensure_bucket()
        await broker.connect()
        await declare_topology(broker)
        metrics_server = metrics.serve(settings.ingestor_metrics_port)
        yield
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
        pool.close()
        await driver.close()

    app = FastStream(broker, lifespan=lifespan, logger=log)

    @app.after_startup
    async def ready() -> None:
        log.info("ready", workers=settings.workers, prefetch=settings.effective_prefetch)

    return app, broker
