"""A cancel as an event: the batch's one BatchCancelled."""

from datetime import datetime
from uuid import UUID, uuid5

from docintake.contracts.events import BatchCancelled


def cancellation_event(batch_id: UUID, at: datetime) -> BatchCancelled:
    """The id is the batch's, so that a cancel asked twice, of any instance, is one event to consumers."""
    return BatchCancelled(event_id=uuid5(batch_id, "batch.cancelled"), occurred_at=at, batch_id=batch_id)
