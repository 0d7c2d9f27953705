"""The DeliveryStore on Neo4j, under the status service's own labels: (:WebhookCallback {batch_id}) keeps
what a batch's BatchCreated said of webhooks (`registered` false while it has not come), (:WebhookParked
{event_id}) an event to deliver that came before it, (:WebhookDelivery {delivery_id}) each event's delivery
to one URL and how its tries went. Times are kept as seconds since the epoch, like the progress records'.

Parking and registering take the write lock of the batch's WebhookCallback first, so that of one batch
they run one after the other: no event is parked after its BatchCreated was registered. The events of a
batch that ask at once are parked (or told its callback) together, in one transaction; a callback once
registered is remembered and asked for no more."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from neo4j import AsyncDriver, AsyncManagedTransaction

from docintake.platform.graphdb import POOL_SIZE, GraphStore
from docintake.platform.group_commit import GroupCommit
from docintake.status.domain.webhooks import BatchCallback, Delivery, Parked, Target

SCHEMA = (
    "CREATE CONSTRAINT webhook_callback_batch_id IF NOT EXISTS FOR (c:WebhookCallback) REQUIRE c.batch_id IS UNIQUE",
    "CREATE CONSTRAINT webhook_delivery_id IF NOT EXISTS FOR (d:WebhookDelivery) REQUIRE d.delivery_id IS UNIQUE",
    "CREATE INDEX webhook_delivery_due IF NOT EXISTS FOR (d:WebhookDelivery) ON (d.state, d.next_attempt_at)",
    "CREATE INDEX webhook_delivery_batch IF NOT EXISTS FOR (d:WebhookDelivery) ON (d.batch_id)",
    "CREATE CONSTRAINT webhook_parked_event_id IF NOT EXISTS FOR (p:WebhookParked) REQUIRE p.event_id IS UNIQUE",
    "CREATE INDEX webhook_parked_batch IF NOT EXISTS FOR (p:WebhookParked) ON (p.batch_id)",
    # What the sweep forgets, found by when it was last touched.
    "CREATE INDEX webhook_callback_registered_at IF NOT EXISTS FOR (c:WebhookCallback) ON (c.registered_at)",
    "CREATE INDEX webhook_parked_at IF NOT EXISTS FOR (p:WebhookParked) ON (p.parked_at)",
    "CREATE INDEX webhook_delivery_finished IF NOT EXISTS FOR (d:WebhookDelivery) ON (d.state, d.last_attempt_at)",
)
# The batch's callback node, made if new, and its write lock taken (held until commit).
_LOCKED = """
MERGE (c:WebhookCallback {batch_id: $batch_id})
ON CREATE SET c.registered = false, c.registered_at = $now
SET c._lock = true REMOVE c._lock
WITH c
"""
_REGISTER_PARKED = _LOCKED + """
OPTIONAL MATCH (p:WebhookParked {batch_id: $batch_id})
RETURN c.registered AS registered, collect(p {.*}) AS parked
"""
_REGISTER = """
MATCH (c:WebhookCallback {batch_id: $batch_id})
SET c.registered = true, c.tenant = $tenant, c.url = $url, c.documents = $documents, c.registered_at = $now
WITH c
OPTIONAL MATCH (p:WebhookParked {batch_id: $batch_id})
DELETE p
"""
_CALLBACK_OR_PARK = _LOCKED + """
CALL (c) {
  WITH c WHERE NOT c.registered
  UNWIND $parked AS parked
  MERGE (p:WebhookParked {event_id: parked.event_id})
  ON CREATE SET p.batch_id = $batch_id, p.body = parked.body, p.parked_at = $now
}
RETURN c {.*} AS callback
"""
_CALLBACK = "MATCH (c:WebhookCallback {batch_id: $batch_id}) RETURN c {.*} AS callback"
_ADD = """
UNWIND $deliveries AS delivery
MERGE (d:WebhookDelivery {delivery_id: delivery.delivery_id})
ON CREATE SET d += delivery.properties, d._new = true
WITH d, d._new IS NOT NULL AS new
REMOVE d._new
RETURN count(CASE WHEN new THEN 1 END) AS added
"""
_CLAIM = """
MATCH (d:WebhookDelivery) WHERE d.state = 'pending' AND d.next_attempt_at <= $now
WITH d ORDER BY d.next_attempt_at LIMIT $limit
SET d.next_attempt_at = $lease_until
RETURN d {.*} AS delivery
"""
_SAVE = "MATCH (d:WebhookDelivery {delivery_id: $delivery_id}) SET d += $properties"
_OF_BATCH = """
MATCH (d:WebhookDelivery {batch_id: $batch_id})
RETURN d {.*} AS delivery ORDER BY d.created_at, d.url, d.delivery_id
"""
_FORGET = """
CALL () {
  MATCH (c:WebhookCallback) WHERE c.registered_at < $before
  WITH c LIMIT $limit DELETE c RETURN count(*) AS callbacks
}
CALL () {
  MATCH (p:WebhookParked) WHERE p.parked_at < $before
  WITH p LIMIT $limit DELETE p RETURN count(*) AS parked
}
CALL () {
  MATCH (d:WebhookDelivery)
  WHERE d.state IN ['delivered', 'given_up'] AND d.last_attempt_at < $before
  WITH d LIMIT $limit DELETE d RETURN count(*) AS deliveries
}
RETURN callbacks + parked + deliveries AS forgotten
"""
FORGET_LIMIT = 1000
# A batch's callback, once registered, never changes: so many are remembered, and an event of their batch
# costs no transaction (a write that takes the batch's lock, one event after the other) nor even a read.
REMEMBERED_CALLBACKS = 10_000


def _seconds(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _time(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def delivery_properties(delivery: Delivery) -> dict[str, Any]:
    return {
        "delivery_id": str(delivery.delivery_id), "batch_id": str(delivery.batch_id), "tenant": delivery.tenant,
        "url": delivery.url, "event_id": str(delivery.event_id), "event_type": delivery.event_type,
        "body": delivery.body, "created_at": _seconds(delivery.created_at),
        "next_attempt_at": _seconds(delivery.next_attempt_at), "state": delivery.state,
        "attempts": delivery.attempts, "last_error": delivery.last_error,
        "last_attempt_at": _seconds(delivery.last_attempt_at), "delivered_at": _seconds(delivery.delivered_at),
    }


def load_delivery(stored: dict[str, Any]) -> Delivery:
    created_at, next_attempt_at = _time(stored["created_at"]), _time(stored["next_attempt_at"])
    assert created_at is not None and next_attempt_at is not None
    return Delivery(
        delivery_id=UUID(stored["delivery_id"]), batch_id=UUID(stored["batch_id"]), tenant=stored["tenant"],
        url=stored["url"], event_id=UUID(stored["event_id"]), event_type=stored["event_type"], body=stored["body"],
        created_at=created_at, next_attempt_at=next_attempt_at, state=stored["state"],
        attempts=stored["attempts"], last_error=stored.get("last_error"),
        last_attempt_at=_time(stored.get("last_attempt_at")), delivered_at=_time(stored.get("delivered_at")),
    )


def _rows(deliveries: Sequence[Delivery]) -> list[dict[str, Any]]:
    return [{"delivery_id": str(delivery.delivery_id), "properties": delivery_properties(delivery)}
            for delivery in deliveries]


def _callback(batch_id: UUID, stored: dict[str, Any]) -> BatchCallback | None:
    if not stored.get("registered"):
        return None
    target = Target(stored["url"], bool(stored.get("documents"))) if stored.get("url") else None
    return BatchCallback(batch_id, stored["tenant"], target)


class Neo4jDeliveryStore(GraphStore):
    """The driver's errors leave as GraphUnavailable or GraphRefused."""

    driver_options = {"max_connection_pool_size": 10}
    schema = SCHEMA

    def __init__(self, driver: AsyncDriver, database: str, connections: int = POOL_SIZE):
        super().__init__(driver, database, connections)
        self._registered: dict[UUID, BatchCallback] = {}
        self._parking: GroupCommit[Parked, BatchCallback | None] = GroupCommit(self._callback_or_park_all)

    async def register(self, callback: BatchCallback,
                       deliveries_for: Callable[[Sequence[Parked]], Sequence[Delivery]]) -> int:
        target = callback.callback

        async def transaction(tx: AsyncManagedTransaction) -> int:
            now = datetime.now(UTC).timestamp()
            record = await (await tx.run(_REGISTER_PARKED, batch_id=str(callback.batch_id), now=now)).single()
            if record is None or record["registered"]:  # registered before
                return 0
            parked = [Parked(UUID(p["event_id"]), UUID(p["batch_id"]), p["body"]) for p in record["parked"]]
            deliveries = deliveries_for(parked)
            await (await tx.run(_REGISTER, batch_id=str(callback.batch_id), tenant=callback.tenant,
                                url=target.url if target else None, documents=target.documents if target else False,
                                now=now)).consume()
            if not deliveries:
                return 0
            added = await (await tx.run(_ADD, deliveries=_rows(deliveries))).single()
            return int(added["added"]) if added else 0

        async with self._call(), self._driver.session(database=self._database) as session:
            return await session.execute_write(transaction)

    async def callback_or_park(self, parked: Parked) -> BatchCallback | None:
        if (known := self._registered.get(parked.batch_id)) is not None:
            return known
        return await self._parking.apply(parked, key=parked.batch_id)

    async def _callback_or_park_all(self, parked: Sequence[Parked]) -> list[BatchCallback | None]:
        """Events of one batch: its callback for each, or each parked while it has none."""
        batch_id = parked[0].batch_id
        [record] = await self._write(
            _CALLBACK_OR_PARK, batch_id=str(batch_id), now=datetime.now(UTC).timestamp(),
            parked=[{"event_id": str(event.event_id), "body": event.body} for event in parked])
        return [self._remembered(_callback(batch_id, record["callback"]))] * len(parked)

    async def callback_of(self, batch_id: UUID) -> BatchCallback | None:
        if (known := self._registered.get(batch_id)) is not None:
            return known
        records = await self._read(_CALLBACK, batch_id=str(batch_id))
        return self._remembered(_callback(batch_id, records[0]["callback"]) if records else None)

    def _remembered(self, callback: BatchCallback | None) -> BatchCallback | None:
        if callback is not None:
            if len(self._registered) >= REMEMBERED_CALLBACKS:
                del self._registered[next(iter(self._registered))]  # the one remembered longest
            self._registered[callback.batch_id] = callback
        return callback

    async def add(self, deliveries: Sequence[Delivery]) -> int:
        records = await self._write(_ADD, deliveries=_rows(deliveries))
        return int(records[0]["added"])

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        records = await self._write(_CLAIM, now=now.timestamp(), lease_until=lease_until.timestamp(), limit=limit)
        return [load_delivery(record["delivery"]) for record in records]

    async def save(self, delivery: Delivery) -> None:
        await self._write(_SAVE, delivery_id=str(delivery.delivery_id), properties=delivery_properties(delivery))

    async def of_batch(self, batch_id: UUID) -> list[Delivery]:
        records = await self._read(_OF_BATCH, batch_id=str(batch_id))
        return [load_delivery(record["delivery"]) for record in records]

    async def forget_finished(self, before: datetime) -> int:
        forgotten = 0
        while True:
            [record] = await self._write(_FORGET, before=before.timestamp(), limit=FORGET_LIMIT)
            forgotten += record["forgotten"]
            if record["forgotten"] < FORGET_LIMIT:
                return forgotten

    async def _write(self, query: str, **parameters: Any) -> list[Any]:
        async with self._call():
            result = await self._driver.execute_query(query, parameters, database_=self._database)
        return list(result.records)
