"""Events of synthetic batches, for the status service's tests and benchmark."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from docintake.contracts.events import (
    DEFAULT_TENANT,
    BatchCancelled,
    BatchCreated,
    BatchCreatedData,
    DocumentFailed,
    DocumentFailedData,
    DocumentIngested,
    DocumentIngestedData,
    DocumentProgressed,
    DocumentProgressedData,
    DocumentQueued,
    DocumentQueuedData,
    DocumentRef,
    Event,
    OcrRequested,
    OcrRequestedData,
    SourceChange,
)
from tests.support.events import document_ref

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass
class SyntheticBatch:
    """A batch and helpers that make its events; times advance one second per event unless given."""

    size: int = 3
    batch_id: UUID = field(default_factory=uuid4)
    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    tenant: str = DEFAULT_TENANT
    refs: list[DocumentRef] = field(init=False)
    _tick: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.refs = [document_ref(self.batch_id, f"doc-{number:03d}.txt", size=1000) for number in range(self.size)]

    def _at(self, at: datetime | None) -> datetime:
        self._tick += 1
        return at or self.start + timedelta(seconds=self._tick)

    def created(self, at: datetime | None = None) -> BatchCreated:
        return BatchCreated(batch_id=self.batch_id, occurred_at=at or self.start, tenant=self.tenant,
                            data=BatchCreatedData(documents=self.refs))

    def queued(self, index: int, attempt: int = 1, at: datetime | None = None) -> DocumentQueued:
        ref = self.refs[index]
        return DocumentQueued(batch_id=self.batch_id, document_id=ref.document_id, occurred_at=self._at(at),
                              tenant=self.tenant,
                              data=DocumentQueuedData(document=ref, attempt=attempt))

    def ingested(self, index: int, attempt: int = 1, at: datetime | None = None,
                 change: SourceChange = "added") -> DocumentIngested:
        ref = self.refs[index]
        return DocumentIngested(
            batch_id=self.batch_id, document_id=ref.document_id, occurred_at=self._at(at), tenant=self.tenant,
            data=DocumentIngestedData(filename=ref.filename, sha256=ref.sha256, detected_type="text/plain",
                                      pages=1, chunks=2, characters=120, attempt=attempt,
                                      collection=ref.collection, source_path=ref.source_path, change=change),
        )

    def failed(self, index: int, attempt: int = 1, at: datetime | None = None,
               error_code: str = "PARSE_ERROR", message: str = "could not parse") -> DocumentFailed:
        ref = self.refs[index]
        return DocumentFailed(
            batch_id=self.batch_id, document_id=ref.document_id, occurred_at=self._at(at), tenant=self.tenant,
            data=DocumentFailedData(filename=ref.filename, error_code=error_code, message=message,
                                    attempt=attempt, attempts=attempt),
        )

    def ocr_requested(self, index: int, pages: int, attempt: int = 1, at: datetime | None = None) -> OcrRequested:
        ref = self.refs[index]
        return OcrRequested(batch_id=self.batch_id, document_id=ref.document_id, occurred_at=self._at(at),
                            tenant=self.tenant, data=OcrRequestedData(document=ref, attempt=attempt, ocr_pages=pages))

    def progressed(self, index: int, done: int, total: int, attempt: int = 1,
                   at: datetime | None = None) -> DocumentProgressed:
        ref = self.refs[index]
        return DocumentProgressed(
            batch_id=self.batch_id, document_id=ref.document_id, occurred_at=self._at(at), tenant=self.tenant,
            data=DocumentProgressedData(filename=ref.filename, attempt=attempt, pages_done=done, pages_total=total),
        )

    def cancelled(self, at: datetime | None = None) -> BatchCancelled:
        return BatchCancelled(batch_id=self.batch_id, occurred_at=self._at(at))

    def story(self, outcomes: str, queued: bool = True) -> list[Event]:
        """BatchCreated then, per document, DocumentQueued and its outcome: 'i' ingested, 'f' failed.

        Tests through the shared broker leave DocumentQueued out (queued=False): an ingestor
        running at the same time would take it up and fail the made-up document.
        """
        events: list[Event] = [self.created()]
        for index, outcome in enumerate(outcomes):
            if queued:
                events.append(self.queued(index))
            events.append(self.ingested(index) if outcome == "i" else self.failed(index))
        return events
