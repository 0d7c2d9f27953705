"""The events the gateway publishes, as FastStream publishers on docintake.events.

They live on a module-level router, so the AsyncAPI document can be generated from them;
bootstrap includes the router in the broker it connects (one broker at a time owns it).
"""

import asyncio

from faststream.rabbit import RabbitRouter
from faststream.rabbit.publisher import RabbitPublisher

from docintake.contracts.events import BatchCancelled, BatchCreated, DocumentQueued, Event
from docintake.platform.messaging import PUBLISH_TIMEOUT_SECONDS
from docintake.platform.topology import EVENTS_EXCHANGE

router = RabbitRouter()


def _publisher(event: type[Event], description: str) -> RabbitPublisher:
    return router.publisher(
        exchange=EVENTS_EXCHANGE, routing_key=event.routing_key, persist=True, mandatory=True,
        timeout=PUBLISH_TIMEOUT_SECONDS, content_type="application/json", schema=event,
        title=f"{event.routing_key}:publish", description=description,
    )


batch_created = _publisher(BatchCreated, "BatchCreated, published by the gateway for every accepted batch")
document_queued = _publisher(DocumentQueued, "DocumentQueued, published by the gateway for every document of it")
batch_cancelled = _publisher(BatchCancelled, "BatchCancelled, published by the gateway when an upload is withdrawn")

PUBLISHERS: dict[str, RabbitPublisher] = {
    event.routing_key: publisher
    for event, publisher in ((BatchCreated, batch_created), (DocumentQueued, document_queued),
                             (BatchCancelled, batch_cancelled))
}


async def publish_events(events: list[Event], in_flight: int = 64) -> None:
    """Publish persistent and mandatory, up to `in_flight` unconfirmed at once; raises if any is not confirmed."""
    gate = asyncio.Semaphore(in_flight)

    async def one(event: Event) -> None:
        async with gate:
            await PUBLISHERS[event.routing_key].publish(
                event.to_json(), message_id=str(event.event_id), message_type=event.event_type,
            )

    await asyncio.gather(*(one(event) for event in events))
