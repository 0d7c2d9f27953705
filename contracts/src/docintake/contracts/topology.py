"""Names and shapes of the broker topology every service agrees on."""

from faststream.rabbit import ExchangeType, QueueType, RabbitExchange, RabbitQueue

EXCHANGE_NAME = "docintake.events"
DEAD_LETTER_EXCHANGE_NAME = "docintake.dlx"
DEAD_LETTER_QUEUE_NAME = "docintake.dead-letters"
INGESTOR_QUEUE_NAME = "docintake.ingestor"
STATUS_QUEUE_NAME = "docintake.status"

# A message delivered this many times without an ack is dead-lettered.
# It is part of the queue's declaration, so changing it means a new queue.
DELIVERY_LIMIT = 10

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
INGESTOR_QUEUE = work_queue(INGESTOR_QUEUE_NAME, "document.queued")
INGESTOR_EXTRA_BINDINGS = ("batch.cancelled",)
STATUS_QUEUE = work_queue(STATUS_QUEUE_NAME, "batch.#")
STATUS_EXTRA_BINDINGS = ("document.#",)
