"""Names of the broker topology every service and subscriber agrees on."""

EXCHANGE_NAME = "docintake.events"
DEAD_LETTER_EXCHANGE_NAME = "docintake.dlx"
DEAD_LETTER_QUEUE_NAME = "docintake.dead-letters"
INGESTOR_QUEUE_NAME = "docintake.ingestor"
STATUS_QUEUE_NAME = "docintake.status"
# The status service's webhook deliveries: a queue of their own, so that a slow receiver holds up only them.
WEBHOOKS_QUEUE_NAME = "docintake.webhooks"

# A message delivered this many times without an ack is dead-lettered.
# It is part of the queues' declaration, so changing it means new queues.
DELIVERY_LIMIT = 10

INGESTOR_ROUTING_KEYS = ("document.queued", "batch.cancelled", "deletion.requested")
STATUS_ROUTING_KEYS = ("batch.#", "document.#", "deletion.#")
# What webhooks deliver (completions, document outcomes) and the batches' callbacks (batch.created).
WEBHOOKS_ROUTING_KEYS = ("batch.created", "batch.completed", "document.ingested", "document.failed")
