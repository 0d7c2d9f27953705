"""Webhook deliveries as a pure model: who is told of an event, how a delivery is signed, when it is tried
again and when it is given up.

A delivery is one event to one URL, under an id made from both, so that every try of it (and every
redelivery of the event) carries the same id for the receiver to deduplicate on. Each try is signed
with HMAC-SHA256 over the try's timestamp and the body, with the tenant's webhook secret.
"""

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID, uuid5

from docintake.contracts.api import WebhookDelivery
from docintake.contracts.events import BatchCompleted, DocumentFailed, DocumentIngested, Event

DeliveryState = Literal["pending", "delivered", "given_up"]
DELIVERY_HEADER = "X-Docintake-Delivery"
EVENT_HEADER = "X-Docintake-Event"
TIMESTAMP_HEADER = "X-Docintake-Timestamp"
SIGNATURE_HEADER = "X-Docintake-Signature"
SIGNATURE_SCHEME = "sha256="
# How much of a receiver's answer, or of an error, a delivery keeps as its last error.
ERROR_CHARACTERS = 500
# The events webhooks deliver: a batch's completion always, a document's outcome to those who asked.
DOCUMENT_OUTCOMES: tuple[type[Event], ...] = (DocumentIngested, DocumentFailed)


@dataclass(frozen=True)
class Target:
    """A URL to tell; `documents`: of each document's outcome too, not only of the batch's completion."""

    url: str
    documents: bool = False


@dataclass(frozen=True)
class BatchCallback:
    """What a batch's BatchCreated said of webhooks: whose batch it is, and the callback its upload named."""

    batch_id: UUID
    tenant: str
    callback: Target | None = None


@dataclass(frozen=True)
class Parked:
    """An event to deliver that came before its batch's BatchCreated: kept until that says whether the batch
    has a callback of its own to tell of it too."""

    event_id: UUID
    batch_id: UUID
    body: str


def is_delivered(event: Event) -> bool:
    return isinstance(event, BatchCompleted | DocumentIngested | DocumentFailed)


def targets_of(event: Event, targets: Sequence[Target]) -> list[str]:
    """The URLs to tell of the event, each once, in the order given."""
    urls: list[str] = []
    for target in targets:
        wanted = isinstance(event, BatchCompleted) or (isinstance(event, DOCUMENT_OUTCOMES) and target.documents)
        if wanted and target.url not in urls:
            urls.append(target.url)
    return urls


def delivery_id(event_id: UUID, url: str) -> UUID:
    """The id every try of one event's delivery to one URL carries."""
    return uuid5(event_id, url)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: 'sha256=' and the hex HMAC-SHA256 of '{timestamp}.{body}'."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return SIGNATURE_SCHEME + digest


def signature_matches(secret: str, timestamp: int, body: bytes, header: str) -> bool:
    """What a receiver checks (compared in constant time)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def signed_headers(delivery: "Delivery", secret: str, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        DELIVERY_HEADER: str(delivery.delivery_id),
        EVENT_HEADER: delivery.event_type,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, delivery.body.encode()),
    }


@dataclass(frozen=True)
class RetryPolicy:
    """Tries after a failure wait `initial`, then twice as long each time up to `ceiling`; a delivery is
    given up once its next try would come later than `retry_for` after it was made."""

    retry_for_seconds: float
    initial_backoff_seconds: float
    max_backoff_seconds: float

    def backoff(self, failures: int) -> timedelta:
        """The pause after the `failures`-th failed try."""
        exponent = min(max(failures - 1, 0), 64)
        return timedelta(seconds=min(self.initial_backoff_seconds * 2.0 ** exponent, self.max_backoff_seconds))


@dataclass(frozen=True)
class Delivery:
    delivery_id: UUID
    batch_id: UUID
    tenant: str
    url: str
    event_id: UUID
    event_type: str
    # The event's JSON, as it came.
    body: str
    created_at: datetime
    next_attempt_at: datetime
    state: DeliveryState = "pending"
    attempts: int = 0
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    delivered_at: datetime | None = None

    @classmethod
    def of(cls, event: Event, body: str, url: str, tenant: str, now: datetime) -> "Delivery":
        return cls(delivery_id=delivery_id(event.event_id, url), batch_id=event.batch_id, tenant=tenant, url=url,
                   event_id=event.event_id, event_type=event.event_type, body=body, created_at=now,
                   next_attempt_at=now)

    def succeeded(self, at: datetime) -> "Delivery":
        return replace(self, state="delivered", attempts=self.attempts + 1, last_attempt_at=at, delivered_at=at,
                       last_error=None)

    def failed(self, at: datetime, error: str, policy: RetryPolicy) -> "Delivery":
        """After a failed try: tried again after the backoff, or given up once past the retry window."""
        attempts = self.attempts + 1
        next_attempt_at = at + policy.backoff(attempts)
        given_up = next_attempt_at > self.created_at + timedelta(seconds=policy.retry_for_seconds)
        return replace(self, state="given_up" if given_up else "pending", attempts=attempts, last_attempt_at=at,
                       last_error=error[:ERROR_CHARACTERS], next_attempt_at=next_attempt_at)

    def view(self) -> WebhookDelivery:
        return WebhookDelivery(
            delivery_id=self.delivery_id, url=self.url, event_type=self.event_type, state=self.state,
            attempts=self.attempts, last_error=self.last_error, last_attempt_at=self.last_attempt_at,
            next_attempt_at=self.next_attempt_at if self.state == "pending" else None, delivered_at=self.delivered_at,
        )
