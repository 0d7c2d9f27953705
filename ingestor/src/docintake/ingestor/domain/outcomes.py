"""What became of a queued document, as the events that say so."""

from uuid import UUID, uuid5

from docintake.contracts.events import (
    DocumentFailed,
    DocumentFailedData,
    DocumentIngested,
    DocumentIngestedData,
    DocumentProgressed,
    DocumentProgressedData,
    DocumentQueued,
    DocumentRemoved,
    DocumentRemovedData,
    Event,
    OcrRequested,
    OcrRequestedData,
    Timings,
)
from docintake.ingestor.domain.versions import Figures, SourceWrite


def outcome_id(event: DocumentQueued) -> UUID:
    """The event id of this attempt's outcome, the same on every delivery of it.

    One outcome per document and attempt: when a redelivered document is ingested again,
    consumers drop the second outcome as a duplicate and the first one counts.
    """
    return uuid5(event.document_id, f"outcome.{event.data.attempt}")


def failed(
    event: DocumentQueued, code: str, message: str, *, retryable: bool = False, attempts: int = 1
) -> DocumentFailed:
    return DocumentFailed(
        event_id=outcome_id(event),
        batch_id=event.batch_id,
        tenant=event.tenant,
        document_id=event.document_id,
        data=DocumentFailedData(
            filename=event.data.document.filename, error_code=code, message=message,
            retryable=retryable, attempts=attempts, attempt=event.data.attempt,
        ),
    )


def ingested(event: DocumentQueued, figures: Figures, write: SourceWrite, timings: Timings) -> list[Event]:
    """The DocumentIngested of the upload, after the DocumentRemoved of the version it replaced, if any."""
    ref = event.data.document
    outcome = DocumentIngested(
        event_id=outcome_id(event),
        batch_id=event.batch_id,
        tenant=event.tenant,
        document_id=event.document_id,
        data=DocumentIngestedData(
            filename=ref.filename, sha256=ref.sha256, detected_type=figures.detected_type,
            pages=figures.pages, chunks=figures.chunks, characters=figures.characters,
            extraction=figures.extraction, ocr_pages=figures.ocr_pages,
            timings=timings, attempt=event.data.attempt,
            collection=ref.collection, source_path=ref.source_path, change=write.change,
        ),
    )
    if write.replaced_sha256 is None:
        return [outcome]
    replaced = DocumentRemoved(
        event_id=uuid5(outcome.event_id, "removed"),
        batch_id=event.batch_id,
        tenant=event.tenant,
        document_id=event.document_id,
        data=DocumentRemovedData(
            collection=ref.collection, source_path=ref.source_path, sha256=write.replaced_sha256,
            reason="replaced", document_deleted=write.replaced_document_deleted,
        ),
    )
    return [replaced, outcome]


def ocr_requested(event: DocumentQueued, pages: int) -> OcrRequested:
    """The document handed to the OCR workers; one per attempt, the same on every delivery."""
    return OcrRequested(
        event_id=uuid5(event.document_id, f"ocr_requested.{event.data.attempt}"),
        batch_id=event.batch_id,
        tenant=event.tenant,
        key_id=event.key_id,
        document_id=event.document_id,
        data=OcrRequestedData(document=event.data.document, attempt=event.data.attempt, ocr_pages=pages),
    )


def progressed(event: DocumentQueued, pages_done: int, pages_total: int) -> DocumentProgressed:
    """How far OCR of the document got; the same id for the same point of the same attempt."""
    return DocumentProgressed(
        event_id=uuid5(event.document_id, f"progressed.{event.data.attempt}.{pages_done}.{pages_total}"),
        batch_id=event.batch_id,
        tenant=event.tenant,
        document_id=event.document_id,
        data=DocumentProgressedData(filename=event.data.document.filename, attempt=event.data.attempt,
                                    pages_done=pages_done, pages_total=pages_total),
    )
