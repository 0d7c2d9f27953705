"""What clients read: a batch's progress record as the API's BatchStatus."""

from datetime import datetime

from docintake.contracts.api import BatchStatus, FailedDocument
from docintake.status.domain.progress import Batch


def batch_status(batch: Batch, now: datetime) -> BatchStatus:
    counts = batch.counts
    return BatchStatus(
        batch_id=batch.batch_id,
        status=batch.status,
        total_documents=counts.total,
        processed_count=counts.ingested,
        failed_count=counts.failed,
        cancelled_count=counts.cancelled,
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
    )
