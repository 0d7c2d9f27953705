"""A cancel as an event: the batch's one BatchCancelled."""

from datetime import datetime
from uuid import uuid5

from docintake.contracts.events import BatchCancelled
from docintake.status.domain.progress import Batch


def cancellation_event(batch: Batch, at: datetime, key_id: str | None = None) -> BatchCancelled:
    """The id is the batch's, so that a cancel asked twice, of any instance, is one event to consumers."""
    return BatchCancelled(event_id=uuid5(batch.batch_id, "batch.cancelled"), occurred_at=at,
                          batch_id=batch.batch_id, tenant=batch.tenant, key_id=key_id)
