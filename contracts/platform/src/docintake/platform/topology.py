"""The broker topology of docintake.contracts.topology as FastStream declares it."""

from faststream.rabbit import ExchangeType, QueueType, RabbitExchange, RabbitQueue

from docintake.contracts.topology import (
    DEAD_LETTER_EXCHANGE_NAME,
    DEAD_LETTER_QUEUE_NAME,
    DELIVERY_LIMIT,
    EXCHANGE_NAME,
    INGESTOR_QUEUE_NAME,
    INGESTOR_ROUTING_KEYS,
    STATUS_QUEUE_NAME,
    STATUS_ROUTING_KEYS,
    WEBHOOKS_QUEUE_NAME,
    WEBHOOKS_ROUTING_KEYS,
)

EVENTS_EXCHANGE = RabbitExchange(EXCHANGE_NAME, type=ExchangeType.TOPIC, durable=True)
DEAD_LETTER_EXCHANGE = RabbitExchange(DEAD_LETTER_EXCHANGE_NAME, type=ExchangeType.FANOUT, durable=True)


def work_queue(name: str, routing_key: str) -> RabbitQueue:
    """A durable quorum queue that dead-letters what it cannot deliver within DELIVERY_LIMIT."""
    return RabbitQueue(
        name,
        queue_type=QueueType.QUORUM,
        durable=True,
        routing_key=routing_key,
        arguments={
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE_NAME,
            "x-delivery-limit": DELIVERY_LIMIT,
        },
    )


DEAD_LETTER_QUEUE = RabbitQueue(DEAD_LETTER_QUEUE_NAME, queue_type=QueueType.QUORUM, durable=True)
INGESTOR_QUEUE = work_queue(INGESTOR_QUEUE_NAME, INGESTOR_ROUTING_KEYS[0])
STATUS_QUEUE = work_queue(STATUS_QUEUE_NAME, STATUS_ROUTING_KEYS[0])
WEBHOOKS_QUEUE = work_queue(WEBHOOKS_QUEUE_NAME, WEBHOOKS_ROUTING_KEYS[0])
# Each work queue with every routing key it is bound by.
WORK_QUEUES = ((INGESTOR_QUEUE, INGESTOR_ROUTING_KEYS), (STATUS_QUEUE, STATUS_ROUTING_KEYS),
               (WEBHOOKS_QUEUE, WEBHOOKS_ROUTING_KEYS))
