"""The DeliveryStore in memory: the unit tests' store, held to the same contract tests as Neo4j's."""

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

from docintake.status.domain.webhooks import BatchCallback, Delivery, Parked


class InMemoryDeliveryStore:
    def __init__(self) -> None:
        self.callbacks: dict[UUID, tuple[BatchCallback, datetime]] = {}
        self.deliveries: dict[UUID, Delivery] = {}
        self.parked: dict[UUID, dict[UUID, tuple[Parked, datetime]]] = {}  # by batch, by event; and when

    async def register(self, callback: BatchCallback,
                       deliveries_for: Callable[[Sequence[Parked]], Sequence[Delivery]]) -> int:
        if callback.batch_id in self.callbacks:
            return 0
        deliveries = deliveries_for([parked for parked, _ in self.parked.get(callback.batch_id, {}).values()])
        self.callbacks[callback.batch_id] = (callback, datetime.now(UTC))
        self.parked.pop(callback.batch_id, None)
        return await self.add(deliveries)

    async def callback_or_park(self, parked: Parked) -> BatchCallback | None:
        registered = await self.callback_of(parked.batch_id)
        if registered is None:
            self.parked.setdefault(parked.batch_id, {}).setdefault(parked.event_id, (parked, datetime.now(UTC)))
        return registered

    async def callback_of(self, batch_id: UUID) -> BatchCallback | None:
        found = self.callbacks.get(batch_id)
        return found[0] if found else None

    async def add(self, deliveries: Sequence[Delivery]) -> int:
        new = [delivery for delivery in deliveries if delivery.delivery_id not in self.deliveries]
        self.deliveries |= {delivery.delivery_id: delivery for delivery in new}
        return len(new)

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        due = sorted((delivery for delivery in self.deliveries.values()
                      if delivery.state == "pending" and delivery.next_attempt_at <= now),
                     key=lambda delivery: delivery.next_attempt_at)[:limit]
        for delivery in due:
            self.deliveries[delivery.delivery_id] = replace(delivery, next_attempt_at=lease_until)
        return [self.deliveries[delivery.delivery_id] for delivery in due]

    async def save(self, delivery: Delivery) -> None:
        self.deliveries[delivery.delivery_id] = delivery

    async def of_batch(self, batch_id: UUID) -> list[Delivery]:
        return sorted((delivery for delivery in self.deliveries.values() if delivery.batch_id == batch_id),
                      key=lambda delivery: (delivery.created_at, delivery.url, str(delivery.delivery_id)))

    async def forget_finished(self, before: datetime) -> int:
        callbacks = [batch_id for batch_id, (_, at) in self.callbacks.items() if at < before]
        parked = [(batch_id, event_id) for batch_id, events in self.parked.items()
                  for event_id, (_, at) in events.items() if at < before]
        deliveries = [delivery.delivery_id for delivery in self.deliveries.values()
                      if delivery.state != "pending" and (delivery.last_attempt_at or delivery.created_at) < before]
        for batch_id in callbacks:
            del self.callbacks[batch_id]
        for batch_id, event_id in parked:
            del self.parked[batch_id][event_id]
        for delivery_id in deliveries:
            del self.deliveries[delivery_id]
        return len(callbacks) + len(parked) + len(deliveries)
