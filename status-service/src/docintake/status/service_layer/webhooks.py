"""Webhooks: what an event on the webhook queue leaves to deliver, and one try of a delivery.

Taking an event only writes records (a batch's callback, the deliveries an event makes), so the queue
never waits for a receiver; the tries run apart, from the stored deliveries, and a status service
started again finds the ones left pending (at least once: a try cut off is tried again).
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from docintake.contracts.api import WebhookDelivery
from docintake.contracts.events import BatchCompleted, BatchCreated, Event, parse_event
from docintake.platform.errors import ReceiverFailed
from docintake.platform.logging import get_logger
from docintake.platform.webhook_targets import TargetRefused
from docintake.status.domain.webhooks import (
    BatchCallback,
    Delivery,
    Parked,
    RetryPolicy,
    Target,
    is_delivered,
    signed_headers,
    targets_of,
)
from docintake.status.service_layer.ports import Clock

log = get_logger(__name__)


class DeliveryStore(Protocol):
    """The batches' callbacks and the deliveries. Raises GraphUnavailable when out of reach for now."""

    async def register(self, callback: BatchCallback,
                       deliveries_for: Callable[[Sequence[Parked]], Sequence[Delivery]]) -> int:
        """Keep what a batch's BatchCreated said, the first time, and with it (in one transaction) the
        deliveries `deliveries_for` makes of the events parked for the batch, which are then let go;
        how many deliveries are new. The same again changes nothing."""

    async def callback_or_park(self, parked: Parked) -> BatchCallback | None:
        """The batch's callback as its BatchCreated said; before that came, None, the event parked (one
        transaction per batch at a time with `register`, so that no event is parked after it)."""

    async def callback_of(self, batch_id: UUID) -> BatchCallback | None: ...

    async def add(self, deliveries: Sequence[Delivery]) -> int:
        """Keep the deliveries not kept before (by delivery_id); how many were new."""

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        """Up to `limit` pending deliveries due at `now`, earliest first, each put off to `lease_until`
        so that no other poll takes it while it is tried (a try cut off is due again then)."""

    async def save(self, delivery: Delivery) -> None:
        """Keep the outcome of a try."""

    async def of_batch(self, batch_id: UUID) -> list[Delivery]:
        """The batch's deliveries, oldest first."""

    async def forget_finished(self, before: datetime) -> int:
        """Delete the callbacks registered, and the deliveries delivered or given up, before the time."""


@dataclass(frozen=True)
class TenantHooks:
    """A tenant's webhook secret and its registered targets."""

    secret: str | None
    targets: tuple[Target, ...] = ()


# The webhooks of a tenant in force now (None: a tenant unknown).
HooksOf = Callable[[str], TenantHooks | None]
# POST the body with the headers; raises ReceiverFailed unless the receiver answered 2xx.
Send = Callable[[str, bytes, dict[str, str]], Awaitable[None]]
# Raises TargetRefused unless the URL may be called now.
CheckTarget = Callable[[str], Awaitable[None]]


async def take_event(event: Event, body: str, store: DeliveryStore, hooks_of: HooksOf, clock: Clock) -> int:
    """Register a batch's callback, or keep the deliveries an event makes; how many deliveries are new.

    The tenant's webhooks are told at once; a batch's own callback once its BatchCreated is known (an
    event before it waits, parked, for it: events come in any order)."""
    if isinstance(event, BatchCreated):
        return await _register(event, store, clock)
    if not is_delivered(event):
        return 0
    if isinstance(event, BatchCompleted) and event.data.kind == "deletion":
        registered = None  # a deletion has no BatchCreated, so no callback of its own to wait for
    else:
        registered = await store.callback_or_park(Parked(event.event_id, event.batch_id, body))
    # The batch's BatchCreated says whose it is; before it came, the event does.
    tenant = registered.tenant if registered is not None else event.tenant
    hooks = hooks_of(tenant)
    targets = list(hooks.targets if hooks else ())
    if registered is not None and registered.callback is not None:
        targets.append(registered.callback)
    now = clock()
    deliveries = [Delivery.of(event, body, url, tenant, now) for url in targets_of(event, targets)]
    return await store.add(deliveries) if deliveries else 0


async def _register(created: BatchCreated, store: DeliveryStore, clock: Clock) -> int:
    data = created.data
    callback = Target(data.callback_url, data.callback_documents) if data.callback_url else None

    def deliveries_for(parked: Sequence[Parked]) -> list[Delivery]:
        if callback is None:
            return []
        now = clock()
        deliveries = []
        for early in parked:
            event = parse_event(early.body)
            deliveries += [Delivery.of(event, early.body, url, created.tenant, now)
                           for url in targets_of(event, [callback])]
        return deliveries

    return await store.register(BatchCallback(created.batch_id, created.tenant, callback), deliveries_for)


async def attempt(delivery: Delivery, store: DeliveryStore, send: Send, check_target: CheckTarget,
                  hooks_of: HooksOf, clock: Clock, policy: RetryPolicy) -> Delivery:
    """One try of a delivery, its outcome kept: delivered on a 2xx, otherwise tried again after the
    backoff or, past the retry window, given up; the last error is kept either way."""
    hooks = hooks_of(delivery.tenant)
    error: str | None = None
    if hooks is None or not hooks.secret:
        error = f"tenant {delivery.tenant} has no webhook secret to sign with"
    else:
        try:
            await check_target(delivery.url)
            now = clock()
            await send(delivery.url, delivery.body.encode(),
                       signed_headers(delivery, hooks.secret, int(now.timestamp())))
        except TargetRefused as exc:
            error = f"refused: {exc}"
        except ReceiverFailed as exc:
            error = str(exc)
    tried = delivery.succeeded(clock()) if error is None else delivery.failed(clock(), error, policy)
    await store.save(tried)
    log.info("webhook delivery tried", delivery_id=str(delivery.delivery_id), batch_id=str(delivery.batch_id),
             url=delivery.url, attempts=tried.attempts, state=tried.state, error=error)
    return tried


async def deliveries_of(batch_id: UUID, store: DeliveryStore) -> list[WebhookDelivery]:
    """What a batch's status shows of its webhooks."""
    return [delivery.view() for delivery in await store.of_batch(batch_id)]
