"""The events the gateway publishes, as FastStream publishers on docintake.events.

They live on a module-level router, so the AsyncAPI document can be generated from them;
bootstrap includes the router in the broker it connects (one broker at a time owns it).
"""

from faststream.rabbit import RabbitRouter

from docintake.contracts.events import BatchCancelled, BatchCreated, DeletionRequested, DocumentQueued
from docintake.platform.messaging import EventPublishers

router = RabbitRouter()
publishers = EventPublishers(router, "gateway", (BatchCreated, DocumentQueued, BatchCancelled, DeletionRequested))
publish_events = publishers.publish_all
