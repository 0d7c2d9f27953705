"""The RabbitMQ adapter every service shares: one broker shape, one topology, one way to publish."""

import asyncio
import logging
from collections.abc import Iterable

from faststream.rabbit import Channel, RabbitBroker, RabbitMessage, RabbitQueue, RabbitRouter
from faststream.rabbit.publisher import RabbitPublisher

from docintake.contracts.events import Event
from docintake.platform.topology import (
    DEAD_LETTER_EXCHANGE,
    DEAD_LETTER_QUEUE,
    EVENTS_EXCHANGE,
    INGESTOR_LANES_EXCHANGE,
    INGESTOR_QUEUE,
    LANE_QUEUES,
    OCR_QUEUE,
    WORK_QUEUES,
    routing_headers,
)

PUBLISH_TIMEOUT_SECONDS = 10.0


def deliveries_so_far(message: RabbitMessage) -> int:
    """How many times this message was delivered before, as the quorum queue counts it."""
    return int((message.headers or {}).get("x-delivery-count", 0) or 0)


def backoff_seconds(attempt: int, ceiling: float) -> float:
    """The pause before trying again after `attempt` failed tries: 1, 2, 4 ... seconds, at most `ceiling`."""
    return min(2.0 ** (attempt - 1), ceiling)


def make_broker(url: str, *, prefetch: int | None = None, graceful_timeout: float = 30.0) -> RabbitBroker:
    """A broker that publishes with confirms and raises on unroutable (returned) messages.

    FastStream's two log lines per message go out at DEBUG, below the services' usual level.
    """
    return RabbitBroker(
        url,
        default_channel=Channel(prefetch_count=prefetch, publisher_confirms=True, on_return_raises=True),
        logger=logging.getLogger("docintake.broker"),
        log_level=logging.DEBUG,
        graceful_timeout=graceful_timeout,
        reconnect_interval=1.0,
        app_id="docintake",
    )


async def declare_topology(broker: RabbitBroker) -> None:
    """Declare the exchanges, the work queues and their bindings; declaring twice is harmless.

    Every service declares the whole topology, so no publish is unroutable just because
    the consuming service has not started yet.
    """
    events = await broker.declare_exchange(EVENTS_EXCHANGE)
    dead_letters = await broker.declare_exchange(DEAD_LETTER_EXCHANGE)
    dlq = await broker.declare_queue(DEAD_LETTER_QUEUE)
    await dlq.bind(dead_letters, routing_key="#")
    for queue, routing_keys in WORK_QUEUES:
        declared = await broker.declare_queue(queue)
        for key in routing_keys:
            await declared.bind(events, routing_key=key)
    # Before lanes, queued documents went to the ingestor's own queue: a broker that has that binding loses it.
    ingestor_queue = await broker.declare_queue(INGESTOR_QUEUE)
    await ingestor_queue.unbind(events, routing_key=INGESTOR_LANES_EXCHANGE.routing_key)
    lanes = await broker.declare_exchange(INGESTOR_LANES_EXCHANGE)
    await lanes.bind(events, routing_key=INGESTOR_LANES_EXCHANGE.routing_key)
    for lane in LANE_QUEUES:
        declared = await broker.declare_queue(lane)
        await declared.bind(lanes, arguments=lane.bind_arguments)


async def messages_waiting(broker: RabbitBroker, queue: RabbitQueue) -> int:
    """How many messages the queue holds ready for delivery (those being worked on not counted)."""
    declared = await broker.declare_queue(queue)
    return (await declared.declare()).message_count or 0


async def ingestion_backlog(broker: RabbitBroker) -> int:
    """How many messages wait for an ingestor, on every lane, in its own queue and in the OCR queue."""
    return sum([await messages_waiting(broker, queue) for queue in (INGESTOR_QUEUE, *LANE_QUEUES, OCR_QUEUE)])


async def publish(broker: RabbitBroker, event: Event) -> None:
    """Publish one event persistent and mandatory; returns once the broker confirmed it."""
    await broker.publish(
        event.to_json(),
        exchange=EVENTS_EXCHANGE,
        routing_key=event.routing_key,
        persist=True,
        mandatory=True,
        message_id=str(event.event_id),
        message_type=event.event_type,
        content_type="application/json",
        headers=routing_headers(event),
        timeout=PUBLISH_TIMEOUT_SECONDS,
    )


async def publish_all(broker: RabbitBroker, events: list[Event], in_flight: int = 64) -> None:
    """Publish many events with up to `in_flight` unconfirmed at once; raises if any is not confirmed."""
    gate = asyncio.Semaphore(in_flight)

    async def one(event: Event) -> None:
        async with gate:
            await publish(broker, event)

    await asyncio.gather(*(one(event) for event in events))


class EventPublishers:
    """A service's FastStream publishers on docintake.events, one per event it publishes, declared where
    the service declares its broker (or router) so that the AsyncAPI document lists them; each event goes
    out persistent and mandatory through its own, confirmed."""

    def __init__(self, owner: RabbitBroker | RabbitRouter, service: str, events: Iterable[type[Event]]):
        self.by_routing_key: dict[str, RabbitPublisher] = {
            event.routing_key: owner.publisher(
                exchange=EVENTS_EXCHANGE, routing_key=event.routing_key, persist=True, mandatory=True,
                timeout=PUBLISH_TIMEOUT_SECONDS, content_type="application/json", schema=event,
                title=f"{service}:{event.routing_key}:publish", description=f"{event.__name__}, published by {service}",
            )
            for event in events
        }

    def __getitem__(self, event: type[Event]) -> RabbitPublisher:
        return self.by_routing_key[event.routing_key]

    async def publish(self, event: Event) -> None:
        """Returns once the broker confirmed the event."""
        await self.by_routing_key[event.routing_key].publish(
            event.to_json(), message_id=str(event.event_id), message_type=event.event_type,
            headers=routing_headers(event),
        )

    async def publish_all(self, events: list[Event], in_flight: int = 64) -> None:
        """Up to `in_flight` unconfirmed at once; raises if any is not confirmed."""
        gate = asyncio.Semaphore(in_flight)

        async def one(event: Event) -> None:
            async with gate:
                await self.publish(event)

        await asyncio.gather(*(one(event) for event in events))
