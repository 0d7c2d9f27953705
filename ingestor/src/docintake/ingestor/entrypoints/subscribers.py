"""The ingestor on the broker: what it consumes, what it publishes, and what it does with each message.

The broker, its subscribers and its publishers are module-level, so the AsyncAPI document is
generated from them. FastStream 0.7 takes the connection only when a broker is made, so the
broker is made here, from the settings in the environment at import.

Per message: handle it (its outcome published, then acked), retry it later (a transient failure
below DELIVERY_LIMIT: requeued after a backoff), give up on it (at DELIVERY_LIMIT: a published
DocumentFailed, then rejected to docintake.dead-letters), or drop it (a body no handler can read:
rejected to docintake.dead-letters by AckPolicy.REJECT_ON_ERROR).
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated
from uuid import uuid4

import structlog
from faststream import AckPolicy, Context
from faststream.exceptions import RejectMessage
from faststream.rabbit import Channel, RabbitMessage, RabbitQueue
from faststream.rabbit.message import RabbitMessage as ReceivedMessage
from faststream.rabbit.prometheus import RabbitPrometheusMiddleware
from prometheus_client import REGISTRY

from docintake.contracts.events import (
    BatchCancelled,
    DeletionRequested,
    DocumentFailed,
    DocumentIngested,
    DocumentProgressed,
    DocumentQueued,
    DocumentRemoved,
    Event,
    OcrRequested,
)
from docintake.contracts.topology import DELIVERY_LIMIT, INGESTOR_QUEUE_NAME
from docintake.ingestor.domain.failures import BROKER_UNAVAILABLE, TransientFailure
from docintake.ingestor.domain.outcomes import failed
from docintake.ingestor.entrypoints import metrics
from docintake.ingestor.service_layer.cancellation import cancel_batch
from docintake.ingestor.service_layer.deletion import delete_sources
from docintake.ingestor.service_layer.ingest import ingest_document
from docintake.ingestor.service_layer.ports import Dependencies
from docintake.ingestor.settings import IngestorSettings
from docintake.platform.logging import get_logger
from docintake.platform.messaging import EventPublishers, backoff_seconds, deliveries_so_far, make_broker
from docintake.platform.topology import EVENTS_EXCHANGE, INGESTOR_LANES_EXCHANGE, INGESTOR_QUEUE, LANE_QUEUES, OCR_QUEUE

log = get_logger(__name__)

# Set by the bootstrap (and by tests) in the broker's context before the first message.
Deps = Annotated[Dependencies, Context("dependencies")]
Settings = Annotated[IngestorSettings, Context("settings")]

_environment = IngestorSettings()
broker = make_broker(_environment.rabbitmq_url, prefetch=_environment.effective_prefetch)
broker.add_middleware(RabbitPrometheusMiddleware(registry=REGISTRY, app_name="docintake-ingestor"))


outcomes = EventPublishers(broker, "ingestor", (DocumentIngested, DocumentFailed, DocumentRemoved, OcrRequested,
                                                DocumentProgressed))
document_ingested, document_failed = outcomes[DocumentIngested], outcomes[DocumentFailed]
document_removed = outcomes[DocumentRemoved]
announce = outcomes.publish


def carrying(event: type[Event]) -> Callable[[ReceivedMessage], Awaitable[bool]]:
    """A filter for the messages whose body is an `event` (the envelope's event_type says so)."""
    event_type = event.model_fields["event_type"].default

    async def is_carrying(message: ReceivedMessage) -> bool:
        body = await message.decode()
        return isinstance(body, dict) and body.get("event_type") == event_type

    is_carrying.__name__ = f"carrying_{event.__name__}"
    return is_carrying


# A body that no filter below accepts is rejected (AckPolicy.REJECT_ON_ERROR): to docintake.dead-letters.
work_queue = broker.subscriber(
    INGESTOR_QUEUE, EVENTS_EXCHANGE, ack_policy=AckPolicy.REJECT_ON_ERROR,
    title="docintake.ingestor", description="Cancelled batches and deletions",
)


def on_every_lane(handler: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """The handler subscribed to every lane's queue: the broker hands each consumer its own prefetch of
    messages, so a lane with a backlog never keeps another lane's documents waiting behind it. Not on an
    ingestor of the role "ocr" (DOCINTAKE_INGESTOR_ROLE)."""
    if not _environment.runs_text:
        return handler
    for lane in LANE_QUEUES:
        handler = broker.subscriber(
            lane, INGESTOR_LANES_EXCHANGE, ack_policy=AckPolicy.REJECT_ON_ERROR,
            title=lane.name, description="Queued documents of the tenants of this lane",
        )(handler)
    return handler


@on_every_lane
async def on_document_queued(event: DocumentQueued, message: RabbitMessage, dependencies: Deps,
                             settings: Settings) -> None:
    with structlog.contextvars.bound_contextvars(batch_id=str(event.batch_id), document_id=str(event.document_id),
                                              tenant=event.tenant):
        delivery = deliveries_so_far(message) + 1
        try:
            await handle_document(event, dependencies)
        except TransientFailure as exc:
            await retry_later_or_give_up(event, exc, delivery, settings.retry_backoff_max_seconds)


def on_ocr_queue(handler: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """The handler subscribed to the OCR queue on a channel of its own, whose prefetch is the OCR workers'
    (DOCINTAKE_OCR_PREFETCH); not on an ingestor of the role "text"."""
    if not _environment.runs_ocr:
        return handler
    return broker.subscriber(
        OCR_QUEUE, EVENTS_EXCHANGE, ack_policy=AckPolicy.REJECT_ON_ERROR,
        channel=Channel(prefetch_count=_environment.effective_ocr_prefetch),
        title=OCR_QUEUE.name, description="Documents the text pass found to need OCR, for the OCR workers",
    )(handler)


@on_ocr_queue
async def on_ocr_requested(event: OcrRequested, message: RabbitMessage, dependencies: Deps,
                           settings: Settings) -> None:
    queued = event.as_queued()
    with structlog.contextvars.bound_contextvars(batch_id=str(event.batch_id), document_id=str(event.document_id),
                                              tenant=event.tenant):
        delivery = deliveries_so_far(message) + 1
        try:
            await handle_document(queued, dependencies, ocr=True)
        except TransientFailure as exc:
            await retry_later_or_give_up(queued, exc, delivery, settings.retry_backoff_max_seconds)


@work_queue(filter=carrying(BatchCancelled))
async def on_batch_cancelled(event: BatchCancelled, dependencies: Deps) -> None:
    """Mostly done by on_cancellation already; not if no ingestor ran when the batch was cancelled."""
    await cancel_batch(event, dependencies.graph)


@work_queue(filter=carrying(DeletionRequested))
async def on_deletion_requested(event: DeletionRequested, dependencies: Deps, settings: Settings,
                                message: RabbitMessage) -> None:
    """Each source removed and announced; a transient failure redelivers the deletion, which redoes
    only what is left and announces again under the same event ids."""
    with structlog.contextvars.bound_contextvars(batch_id=str(event.batch_id), document_id=None, tenant=event.tenant):
        try:
            removed = await delete_sources(event, dependencies.graph, dependencies.storage, _announce_removal)
        except TransientFailure as exc:
            delivery = deliveries_so_far(message) + 1
            if delivery >= DELIVERY_LIMIT:  # the status service times out what was not announced
                log.error("giving up on a deletion", error=exc.message, delivery=delivery)
                raise RejectMessage(requeue=False) from None
            delay = backoff_seconds(delivery, settings.retry_backoff_max_seconds)
            log.warning("transient failure in a deletion; will retry", error=exc.message, retry_in=delay)
            metrics.RETRIES.labels(exc.code).inc()
            await asyncio.sleep(delay)
            raise RejectMessage(requeue=True) from None
        metrics.DOCUMENTS.labels("removed").inc(removed)


async def _announce_removal(event: Event) -> None:
    try:
        await announce(event)
    except Exception as exc:  # noqa: BLE001 - whatever the broker client raised, the removal is not out
        raise TransientFailure(BROKER_UNAVAILABLE, f"Message broker did not confirm the removal: {exc!r}") from exc


def cancellation_queue() -> RabbitQueue:
    """This process's own queue of cancelled batches, gone with its connection.

    The work queue delivers a cancellation only behind the batch's own queued documents;
    this one delivers it at once, so those documents are skipped rather than ingested.
    """
    return RabbitQueue(
        f"{INGESTOR_QUEUE_NAME}.cancellations.{uuid4()}", exclusive=True, auto_delete=True,
        routing_key=BatchCancelled.routing_key,
    )


# Left out of the AsyncAPI document: a queue with a random name is no contract. Acked on arrival:
# the work queue's copy of the event is the one that must not be lost.
@broker.subscriber(cancellation_queue(), EVENTS_EXCHANGE, ack_policy=AckPolicy.ACK_FIRST, include_in_schema=False)
async def on_cancellation(event: BatchCancelled, dependencies: Deps) -> None:
    await cancel_batch(event, dependencies.graph)


async def handle_document(event: DocumentQueued, dependencies: Dependencies, *, ocr: bool = False) -> None:
    """Ingest the document and publish its outcome (or, from the text pass, its OcrRequested); raises
    TransientFailure for a later retry."""
    events = await ingest_document(event, dependencies, ocr=ocr)
    if not events:
        metrics.DOCUMENTS.labels("skipped").inc()
        return
    try:
        for published in events:
            await announce(published)
    except Exception as exc:  # noqa: BLE001 - whatever the broker client raised, the outcome is not out
        # redone later: the same event ids, the same graph
        raise TransientFailure(BROKER_UNAVAILABLE, f"Message broker did not confirm the outcome: {exc!r}") from exc
    outcome = events[-1]
    if isinstance(outcome, OcrRequested):
        metrics.DOCUMENTS.labels("ocr_requested").inc()
    elif isinstance(outcome, DocumentFailed):
        metrics.DOCUMENTS.labels("failed").inc()
        log.info("document failed", error_code=outcome.data.error_code, error=outcome.data.message)
    elif isinstance(outcome, DocumentIngested):  # written (a new source or version), or unchanged
        metrics.DOCUMENTS.labels("unchanged" if outcome.data.change == "unchanged" else "ingested").inc()


async def retry_later_or_give_up(event: DocumentQueued, exc: TransientFailure, delivery: int,
                                 backoff_max_seconds: float) -> None:
    """Always raises RejectMessage: requeued below DELIVERY_LIMIT, else dead-lettered once DocumentFailed is out."""
    if delivery < DELIVERY_LIMIT:
        delay = backoff_seconds(delivery, backoff_max_seconds)
        log.warning("transient failure; will retry", error=exc.message, delivery=delivery, retry_in=delay)
        metrics.RETRIES.labels(exc.code).inc()
        await asyncio.sleep(delay)
        raise RejectMessage(requeue=True) from None
    log.error("giving up after repeated transient failures", error=exc.message, delivery=delivery)
    await announce(failed(
        event, exc.code, f"{exc.message} (gave up after {delivery} attempts)", retryable=True, attempts=delivery,
    ))
    metrics.DOCUMENTS.labels("failed").inc()
    raise RejectMessage(requeue=False) from None  # to docintake.dead-letters
