"""What became of a queued document, as the event that says so."""

from uuid import UUID, uuid5

from docintake.contracts.events import (
    DocumentFailed,
    DocumentFailedData,
    DocumentIngested,
    DocumentIngestedData,
    DocumentQueued,
    Timings,
)
from docintake.ingestor.domain.document import Chunk, ParsedDocument


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
        document_id=event.document_id,
        data=DocumentFailedData(
            filename=event.data.document.filename, error_code=code, message=message,
            retryable=retryable, attempts=attempts, attempt=event.data.attempt,
        ),
    )


def ingested(event: DocumentQueued, parsed: ParsedDocument, chunks: list[Chunk], timings: Timings) -> DocumentIngested:
    ref = event.data.document
    return DocumentIngested(
        event_id=outcome_id(event),
        batch_id=event.batch_id,
        document_id=event.document_id,
        data=DocumentIngestedData(
            filename=ref.filename, sha256=ref.sha256, detected_type=parsed.detected_type,
            pages=parsed.pages, chunks=len(chunks), characters=parsed.characters,
            timings=timings, attempt=event.data.attempt,
        ),
    )
