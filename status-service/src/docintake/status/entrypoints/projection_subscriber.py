"""The projection's entrypoint: every event on the status queue, folded once into the progress store."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

from faststream import AckPolicy, Context
from faststream.exceptions import RejectMessage
from faststream.message import StreamMessage
from pydantic import ValidationError
from structlog.contextvars import bound_contextvars

from docintake.contracts.events import ALL_EVENTS, Event, parse_event, utcnow
from docintake.platform.errors import GraphUnavailable
from docintake.platform.logging import get_logger
from docintake.platform.messaging import backoff_seconds
from docintake.platform.topology import EVENTS_EXCHANGE, STATUS_QUEUE
from docintake.platform.tracing import annotate
from docintake.status.adapters.event_broker import broker
from docintake.status.adapters.per_batch_grouping import PerBatchGrouping
from docintake.status.domain.refusals import UnreadableRecord
from docintake.status.entrypoints.metrics import (
    DUPLICATES_SKIPPED,
    EVENT_LAG_SECONDS,
    EVENTS_APPLIED,
    EVENTS_OF_QUARANTINED_BATCHES,
    MESSAGES_REJECTED,
    PROJECTION_SECONDS,
    STORE_RETRIES,
)
from docintake.status.service_layer.projection import Outcome

log = get_logger(__name__)

# The broker's context key under which bootstrap puts the running service's per-batch grouping.
PROJECTION = "status_projection"
KNOWN_EVENT_TYPES = frozenset(event.model_fields["event_type"].default for event in ALL_EVENTS)
# The longest pause between tries while the progress store is unreachable.
STORE_RETRY_CEILING_SECONDS = 30.0


class UnreadableMessage(ValueError):
    """A message body that is not an event at all."""


class UnknownEventType(Exception):
    """An event of a type this service does not know, e.g. from a newer producer."""

    def __init__(self, event_type: str):
        super().__init__(event_type)
        self.event_type = event_type


def read_event(body: bytes) -> Event:
    """The event a message carries; raises UnreadableMessage or UnknownEventType."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise UnreadableMessage(f"not JSON: {exc}") from exc
    event_type = payload.get("event_type") if isinstance(payload, dict) else None
    if isinstance(event_type, str) and event_type not in KNOWN_EVENT_TYPES:
        raise UnknownEventType(event_type)
    try:
        return parse_event(payload)
    except ValidationError as exc:
        raise UnreadableMessage(f"not a valid event: {exc.error_count()} error(s), first: {exc.errors()[0]['msg']}") \
            from exc


async def _raw_body(message: StreamMessage) -> bytes:
    """Hand the handler the undecoded body, so that a body which is not JSON is ours to judge."""
    return message.body


@broker.subscriber(
    STATUS_QUEUE, EVENTS_EXCHANGE, decoder=_raw_body, ack_policy=AckPolicy.REJECT_ON_ERROR,
    title="docintake.status:project", description="Project every batch and document event into progress records",
)
async def project(body: bytes, projection: PerBatchGrouping[Outcome] = Context(PROJECTION)) -> None:
    try:
        event = read_event(body)
    except UnreadableMessage as exc:
        MESSAGES_REJECTED.labels(reason="unreadable").inc()
        log.warning("unreadable message dead-lettered", error=str(exc))
        raise RejectMessage(requeue=False) from exc
    except UnknownEventType as exc:
        log.info("event type not known; ignored", event_type=exc.event_type)
        return
    document_id = str(event.document_id) if event.document_id else None
    annotate(event.batch_id, document_id)
    with bound_contextvars(batch_id=str(event.batch_id), document_id=document_id):
        started = time.perf_counter()
        try:
            outcome = await apply_until_stored(event, projection.apply)
        except UnreadableRecord as exc:
            # Redelivering it would change nothing until an operator repairs the record.
            EVENTS_OF_QUARANTINED_BATCHES.inc()
            log.warning("event of a quarantined batch acknowledged, not applied", reason=exc.reason,
                        event_type=event.event_type, event_id=str(event.event_id))
            return
        if outcome is Outcome.APPLIED:
            PROJECTION_SECONDS.observe(time.perf_counter() - started)
            EVENT_LAG_SECONDS.observe(max(0.0, (utcnow() - event.occurred_at).total_seconds()))
            EVENTS_APPLIED.labels(event_type=event.event_type).inc()
            log.debug("event applied", event_type=event.event_type, event_id=str(event.event_id))
        elif outcome is Outcome.DUPLICATE:
            DUPLICATES_SKIPPED.inc()
            log.info("duplicate event skipped", event_type=event.event_type, event_id=str(event.event_id))


async def apply_until_stored(event: Event, apply: Callable[[Event], Awaitable[Outcome]]) -> Outcome:
    """Apply the event, waiting out an unreachable store however long it lasts.

    A projection that skipped an event would report wrong counts forever, so the message stays
    unacknowledged while the store is down, rather than being requeued towards its delivery limit.
    """
    tries = 0
    while True:
        try:
            return await apply(event)
        except GraphUnavailable as exc:
            tries += 1
            delay = backoff_seconds(tries, STORE_RETRY_CEILING_SECONDS)
            STORE_RETRIES.inc()
            log.warning("progress store unavailable; will try again", error=repr(exc), tries=tries, retry_in=delay)
            await asyncio.sleep(delay)
