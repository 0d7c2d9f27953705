"""The stall sweeper's verdicts, as events: what the status service concludes for want of news.

- A document that was queued but has no outcome within the stall timeout: DocumentFailed TIMED_OUT.
- A document BatchCreated listed whose DocumentQueued never came within it: DocumentFailed NOT_QUEUED.
- A batch whose BatchCreated never came, quiet for the stall timeout: the sweeper publishes a
  BatchCreated of its own listing the documents it knows, with a warning that says so. The fold
  treats it like any BatchCreated (the documents seen are then the whole batch, and a late real
  BatchCreated still adds what it lists), so the batch can finish, and replaying the events gives
  the same record.

Every verdict's event_id follows from what it is about, so a second sweep publishes duplicates.
"""

from datetime import datetime, timedelta
from uuid import uuid5

from docintake.contracts.events import (
    BatchCreated,
    BatchCreatedData,
    DocumentFailed,
    DocumentFailedData,
    Event,
)
from docintake.status.domain.progress import NOT_QUEUED, TIMED_OUT, Batch, DocumentProgress

ASSUMED_MANIFEST_WARNING = (
    "BatchCreated did not arrive within the stall timeout; the status service lists the documents it has seen"
)


def stall_verdicts(batch: Batch, now: datetime, timeout_seconds: float) -> list[Event]:
    """The events that settle what made no progress since `timeout_seconds` before `now`."""
    cutoff = now - timedelta(seconds=timeout_seconds)
    verdicts: list[Event] = []
    if not batch.manifest_known and batch.updated_at is not None and batch.updated_at <= cutoff:
        verdicts.append(assumed_manifest(batch, batch.created_at or now))
    verdicts += [
        presumed_failure(batch, document, now, timeout_seconds)
        for document in sorted(batch.documents.values(), key=lambda doc: str(doc.document_id))
        if not document.is_finished and document.progressed_at is not None and document.progressed_at <= cutoff
    ]
    return verdicts


def presumed_failure(batch: Batch, document: DocumentProgress, at: datetime,
                     timeout_seconds: float) -> DocumentFailed:
    if document.queued:
        code, message = TIMED_OUT, f"timed out: no progress for {timeout_seconds:g} s"
    else:
        code, message = NOT_QUEUED, f"not queued: no DocumentQueued arrived within {timeout_seconds:g} s"
    return DocumentFailed(
        event_id=uuid5(document.document_id, f"{document.attempt}.{code}"),
        occurred_at=at,
        batch_id=batch.batch_id,
        tenant=batch.tenant,
        document_id=document.document_id,
        data=DocumentFailedData(filename=document.filename, error_code=code, message=message,
                                attempt=document.attempt, attempts=document.attempt),
    )


def assumed_manifest(batch: Batch, started_at: datetime) -> BatchCreated:
    known = sorted((doc.ref for doc in batch.documents.values() if doc.ref is not None),
                   key=lambda ref: str(ref.document_id))
    return BatchCreated(
        event_id=uuid5(batch.batch_id, "batch.created.assumed"),
        occurred_at=started_at,
        batch_id=batch.batch_id,
        tenant=batch.tenant,
        data=BatchCreatedData(documents=known, warnings=[ASSUMED_MANIFEST_WARNING]),
    )
