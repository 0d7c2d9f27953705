"""A retry as events: the next attempt of each failed document, queued again."""

from datetime import datetime
from uuid import uuid5

from docintake.contracts.events import DocumentQueued, DocumentQueuedData
from docintake.status.domain.progress import Batch


def retry_events(batch: Batch, at: datetime, key_id: str | None = None) -> list[DocumentQueued]:
    """One DocumentQueued per retryable document; raises the batch's refusal if there is none.

    The id is the document's and the attempt's, so a retry asked twice queues each attempt once.
    """
    return [
        DocumentQueued(
            event_id=uuid5(document.document_id, f"document.queued.{document.attempt + 1}"),
            occurred_at=at,
            batch_id=batch.batch_id,
            tenant=batch.tenant,
            key_id=key_id,
            document_id=document.document_id,
            data=DocumentQueuedData(document=document.ref, attempt=document.attempt + 1),
        )
        for document in batch.retryable_documents()
        if document.ref is not None
    ]
