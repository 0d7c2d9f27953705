"""Webhooks' entrypoints: the subscriber of the webhook queue, which keeps what each event leaves to deliver,
and the loop that tries the deliveries due, a bounded number at once, apart from every queue.

The queue's messages are acknowledged once their deliveries are stored, so a slow or failing receiver
holds up neither this queue nor the projection; a status service stopped in the middle of a try finds
the delivery due again once its lease ran out, and tries it again (at least once).
"""

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta

from faststream import AckPolicy, Context
from faststream.exceptions import RejectMessage

from docintake.platform.errors import GraphUnavailable
from docintake.platform.logging import get_logger
from docintake.platform.messaging import backoff_seconds
from docintake.platform.topology import EVENTS_EXCHANGE, WEBHOOKS_QUEUE
from docintake.status.adapters.event_broker import broker
from docintake.status.domain.webhooks import Delivery, RetryPolicy
from docintake.status.entrypoints.metrics import WEBHOOK_DELIVERIES_MADE, WEBHOOK_TRIES
from docintake.status.entrypoints.projection_subscriber import (
    STORE_RETRY_CEILING_SECONDS,
    UnknownEventType,
    UnreadableMessage,
    _raw_body,
    read_event,
)
from docintake.status.service_layer.ports import Clock
from docintake.status.service_layer.webhooks import CheckTarget, DeliveryStore, HooksOf, Send, attempt, take_event

log = get_logger(__name__)

# The broker's context key under which bootstrap puts the running service's Webhooks.
WEBHOOKS = "status_webhooks"
# How much longer than a try's timeout a claimed delivery is kept from other polls (its target checked,
# its outcome stored), beyond twice the timeout.
LEASE_MARGIN_SECONDS = 10.0


@dataclass
class Webhooks:
    """What the webhook entrypoints work with, built by bootstrap."""

    store: DeliveryStore
    hooks_of: HooksOf
    send: Send
    check_target: CheckTarget
    clock: Clock
    policy: RetryPolicy
    concurrency: int
    poll_seconds: float
    timeout_seconds: float
    # Set when deliveries may be due before the next poll: new ones were stored, or a try ended.
    due: asyncio.Event = field(default_factory=asyncio.Event)


@broker.subscriber(
    WEBHOOKS_QUEUE, EVENTS_EXCHANGE, decoder=_raw_body, ack_policy=AckPolicy.REJECT_ON_ERROR,
    title="docintake.webhooks:record",
    description="Keep each batch's callback and the webhook deliveries of completions and document outcomes",
)
async def record_deliveries(body: bytes, webhooks: Webhooks = Context(WEBHOOKS)) -> None:
    try:
        event = read_event(body)
    except UnreadableMessage as exc:
        log.warning("unreadable message dead-lettered from the webhook queue", error=str(exc))
        raise RejectMessage(requeue=False) from exc
    except UnknownEventType:
        return
    tries = 0
    while True:
        try:
            added = await take_event(event, body.decode("utf-8", "replace"), webhooks.store, webhooks.hooks_of,
                                     webhooks.clock)
            break
        except GraphUnavailable as exc:  # waited out: a skipped event would be a delivery never made
            tries += 1
            delay = backoff_seconds(tries, STORE_RETRY_CEILING_SECONDS)
            log.warning("webhook store unavailable; will try again", error=repr(exc), tries=tries, retry_in=delay)
            await asyncio.sleep(delay)
    if added:
        WEBHOOK_DELIVERIES_MADE.inc(added)
        log.info("webhook deliveries to make", batch_id=str(event.batch_id), event_type=event.event_type,
                 deliveries=added)
        webhooks.due.set()


async def run_deliveries(webhooks: Webhooks) -> None:
    """Try the deliveries due, at most `concurrency` at once, until cancelled (the tries in hand are
    cancelled with it, and are due again once their lease runs out)."""
    trying: set[asyncio.Task[Delivery]] = set()
    lease = timedelta(seconds=2 * webhooks.timeout_seconds + LEASE_MARGIN_SECONDS)

    def ended(task: asyncio.Task[Delivery]) -> None:
        trying.discard(task)
        webhooks.due.set()
        if task.cancelled():
            return
        if task.exception() is not None:
            log.warning("webhook delivery try not kept; tried again after its lease", error=repr(task.exception()))
        else:
            WEBHOOK_TRIES.labels(state=task.result().state).inc()

    try:
        while True:
            webhooks.due.clear()
            free = webhooks.concurrency - len(trying)
            if free > 0:
                try:
                    now = webhooks.clock()
                    claimed = await webhooks.store.claim_due(now, now + lease, free)
                except Exception as exc:  # noqa: BLE001 - the next poll tries again
                    log.warning("webhook deliveries due could not be read", error=repr(exc))
                    claimed = []
                for delivery in claimed:
                    task = asyncio.create_task(attempt(delivery, webhooks.store, webhooks.send, webhooks.check_target,
                                                       webhooks.hooks_of, webhooks.clock, webhooks.policy))
                    trying.add(task)
                    task.add_done_callback(ended)
                if len(claimed) == free:
                    continue  # more may be due
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(webhooks.due.wait(), webhooks.poll_seconds)
    finally:
        for task in trying:
            task.cancel()
        await asyncio.gather(*trying, return_exceptions=True)
