"""Names of the broker topology every service and subscriber agrees on."""

import zlib

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

INGESTOR_ROUTING_KEYS = ("batch.cancelled", "deletion.requested")
# Documents the text pass found to need OCR (OcrRequested): a queue of their own, taken by OCR workers with
# their own prefetch and limits, so that a long scan never holds up the text files behind it.
OCR_QUEUE_NAME = f"{INGESTOR_QUEUE_NAME}.ocr"
OCR_ROUTING_KEY = "document.ocr_requested"

# Queued documents reach the ingestor on lanes, a queue each, so that one tenant's backlog does not hold
# up another's documents: each DocumentQueued carries the header LANE_HEADER, its tenant's lane, and the
# headers exchange INGESTOR_LANES_EXCHANGE_NAME (bound to docintake.events by document.queued) routes
# it to that lane's queue. The ingestor takes from every lane at once, so tenants on different lanes
# take turns; tenants that share a lane share its order.
INGESTOR_LANES_EXCHANGE_NAME = "docintake.ingestor.lanes"
INGESTOR_LANES = 16
LANE_HEADER = "docintake-lane"
LANE_ROUTING_KEY = "document.queued"


def lane_of(tenant: str) -> int:
    """The tenant's lane: the same in every process (CRC-32, not Python's salted hash)."""
    return zlib.crc32(tenant.encode()) % INGESTOR_LANES


def lane_queue_name(lane: int) -> str:
    return f"{INGESTOR_QUEUE_NAME}.lane-{lane:02d}"
STATUS_ROUTING_KEYS = ("batch.#", "document.#", "deletion.#")
# What webhooks deliver (completions, document outcomes) and the batches' callbacks (batch.created).
WEBHOOKS_ROUTING_KEYS = ("batch.created", "batch.completed", "document.ingested", "document.failed")
