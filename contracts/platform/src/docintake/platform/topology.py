"""The broker topology of docintake.contracts.topology as FastStream declares it."""

from typing import Any

from faststream.rabbit import ExchangeType, QueueType, RabbitExchange, RabbitQueue

from docintake.contracts.events import DocumentQueued, Event
from docintake.contracts.topology import (
    DEAD_LETTER_EXCHANGE_NAME,
    DEAD_LETTER_QUEUE_NAME,
    DELIVERY_LIMIT,
    EXCHANGE_NAME,
    INGESTOR_LANES,
    INGESTOR_LANES_EXCHANGE_NAME,
    INGESTOR_QUEUE_NAME,
    INGESTOR_ROUTING_KEYS,
    LANE_HEADER,
    LANE_ROUTING_KEY,
    OCR_QUEUE_NAME,
    OCR_ROUTING_KEY,
    STATUS_QUEUE_NAME,
    STATUS_ROUTING_KEYS,
    WEBHOOKS_QUEUE_NAME,
    WEBHOOKS_ROUTING_KEYS,
    lane_of,
    lane_queue_name,
)

EVENTS_EXCHANGE = RabbitExchange(EXCHANGE_NAME, type=ExchangeType.TOPIC, durable=True)
DEAD_LETTER_EXCHANGE = RabbitExchange(DEAD_LETTER_EXCHANGE_NAME, type=ExchangeType.FANOUT, durable=True)


def work_queue(name: str, routing_key: str = "", bind_arguments: dict[str, str] | None = None) -> RabbitQueue:
    """A durable quorum queue that dead-letters what it cannot deliver within DELIVERY_LIMIT."""
    return RabbitQueue(
        name,
        queue_type=QueueType.QUORUM,
        durable=True,
        routing_key=routing_key,
        bind_arguments=bind_arguments,
        arguments={
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE_NAME,
            "x-delivery-limit": DELIVERY_LIMIT,
        },
    )


DEAD_LETTER_QUEUE = RabbitQueue(DEAD_LETTER_QUEUE_NAME, queue_type=QueueType.QUORUM, durable=True)
INGESTOR_QUEUE = work_queue(INGESTOR_QUEUE_NAME, INGESTOR_ROUTING_KEYS[0])
STATUS_QUEUE = work_queue(STATUS_QUEUE_NAME, STATUS_ROUTING_KEYS[0])
INGESTOR_LANES_EXCHANGE = RabbitExchange(INGESTOR_LANES_EXCHANGE_NAME, type=ExchangeType.HEADERS, durable=True,
                                         bind_to=EVENTS_EXCHANGE, routing_key=LANE_ROUTING_KEY)
LANE_QUEUES = tuple(work_queue(lane_queue_name(lane), bind_arguments={"x-match": "all", LANE_HEADER: str(lane)})
                    for lane in range(INGESTOR_LANES))


def lane_queue(tenant: str) -> RabbitQueue:
    """The queue a tenant's queued documents wait in."""
    return LANE_QUEUES[lane_of(tenant)]


def routing_headers(event: Event) -> dict[str, Any]:
    """The headers an event is published with: a queued document's lane."""
    return {LANE_HEADER: str(lane_of(event.tenant))} if isinstance(event, DocumentQueued) else {}
WEBHOOKS_QUEUE = work_queue(WEBHOOKS_QUEUE_NAME, WEBHOOKS_ROUTING_KEYS[0])
OCR_QUEUE = work_queue(OCR_QUEUE_NAME, OCR_ROUTING_KEY)
# Each work queue with every routing key it is bound by.
WORK_QUEUES = ((INGESTOR_QUEUE, INGESTOR_ROUTING_KEYS), (STATUS_QUEUE, STATUS_ROUTING_KEYS),
               (WEBHOOKS_QUEUE, WEBHOOKS_ROUTING_KEYS), (OCR_QUEUE, (OCR_ROUTING_KEY,)))
