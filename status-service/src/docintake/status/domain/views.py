"""What clients read: a batch's progress record as the API's BatchStatus."""

from datetime import datetime

from docintake.contracts.api import AuditEntry, BatchStatus, DocumentEntry, FailedDocument
from docintake.status.domain.progress import Batch, DocumentProgress


def document_entry(document: DocumentProgress) -> DocumentEntry:
    ref = document.ref
    ocr = document.ocr_pages_total is not None
    return DocumentEntry(document_id=document.document_id, filename=document.filename, outcome=document.outcome,
                         collection=ref.collection if ref else None, source_path=ref.source_path if ref else None,
                         ocr_pages_done=document.ocr_pages_done if ocr else None,
                         ocr_pages_total=document.ocr_pages_total if ocr else None)


def batch_status(batch: Batch, now: datetime, *, itemised: bool = True) -> BatchStatus:
    """The batch as clients read it; `itemised`: with every document and its outcome (left out of lists)."""
    counts = batch.counts
    return BatchStatus(
        batch_id=batch.batch_id,
        kind=batch.kind,
        tenant=batch.tenant,
        status=batch.status,
        **counts.reported(),
        pending_count=counts.pending,
        failed_documents=[
            FailedDocument(document_id=document.document_id, filename=document.filename,
                           error=document.error or "", error_code=document.error_code)
            for document in batch.failed_documents
        ],
        created_at=batch.created_at,
        estimated_completion_time=batch.estimated_completion(now),
        completed_at=batch.completed_at,
        processing_time_seconds=batch.processing_time_seconds,
        documents=[document_entry(document) for document in batch.itemised_documents] if itemised else [],
        webhooks=[],  # the deliveries are kept apart; the HTTP API adds them
        audit=[AuditEntry(at=entry.at, action=entry.action, key_id=entry.key_id)
               for entry in sorted(batch.audit)] if itemised else [],
    )
