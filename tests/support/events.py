"""Sample events for tests: one valid instance of each event type."""

import mimetypes
from datetime import UTC, datetime
from uuid import uuid4

from docintake.contracts.events import (
    BatchCancelled,
    BatchCompleted,
    BatchCompletedData,
    BatchCreated,
    BatchCreatedData,
    DeletionRequested,
    DeletionRequestedData,
    DocumentFailed,
    DocumentFailedData,
    DocumentIngested,
    DocumentIngestedData,
    DocumentProgressed,
    DocumentProgressedData,
    DocumentQueued,
    DocumentQueuedData,
    DocumentRef,
    DocumentRemoved,
    DocumentRemovedData,
    Event,
    OcrRequested,
    OcrRequestedData,
    SourceToRemove,
    removal_id,
)


def document_ref(batch_id=None, filename: str = "report.pdf", size: int = 1234, **metadata) -> DocumentRef:
    document_id = uuid4()
    return DocumentRef(
        document_id=document_id,
        filename=filename,
        size=size,
        sha256="ab" * 32,
        content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
        bucket="docintake-uploads",
        key=f"batches/{batch_id or uuid4()}/{document_id}",
        metadata=metadata or {"author": "Ada", "tags": ["a", "b"]},
    )


def one_of_each() -> list[Event]:
    batch_id = uuid4()
    ref = document_ref(batch_id)
    return [
        BatchCreated(batch_id=batch_id, data=BatchCreatedData(documents=[ref], warnings=["x.pdf not in batch"])),
        DocumentQueued(batch_id=batch_id, document_id=ref.document_id, data=DocumentQueuedData(document=ref)),
        DocumentIngested(
            batch_id=batch_id,
            document_id=ref.document_id,
            data=DocumentIngestedData(
                filename=ref.filename, sha256=ref.sha256, detected_type="pdf", pages=3, chunks=7, characters=5000
            ),
        ),
        DocumentFailed(
            batch_id=batch_id,
            document_id=ref.document_id,
            data=DocumentFailedData(filename=ref.filename, error_code="CORRUPT_FILE", message="The PDF is damaged"),
        ),
        BatchCompleted(
            batch_id=batch_id,
            data=BatchCompletedData(
                status="completed",
                total_documents=1,
                processed_count=1,
                failed_count=0,
                completed_at=datetime.now(UTC),
                processing_time_seconds=1.5,
            ),
        ),
        BatchCancelled(batch_id=batch_id),
        DocumentRemoved(
            batch_id=batch_id,
            document_id=ref.document_id,
            data=DocumentRemovedData(collection=ref.collection, source_path=ref.source_path, sha256="cd" * 32,
                                     reason="replaced", document_deleted=True),
        ),
        DeletionRequested(
            batch_id=(deletion_id := uuid4()),
            data=DeletionRequestedData(scope="sources", collection=ref.collection, sources=[SourceToRemove(
                removal_id=removal_id(deletion_id, ref.collection, ref.source_path), collection=ref.collection,
                source_path=ref.source_path, sha256=ref.sha256,
            )]),
        ),
        OcrRequested(batch_id=batch_id, document_id=ref.document_id,
                     data=OcrRequestedData(document=ref, ocr_pages=3)),
        DocumentProgressed(batch_id=batch_id, document_id=ref.document_id,
                           data=DocumentProgressedData(filename=ref.filename, pages_done=1, pages_total=3)),
    ]
