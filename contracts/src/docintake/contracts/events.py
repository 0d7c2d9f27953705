"""The event envelope and the eight events of docintake.

Every event travels whole as the JSON body of one message. Consumers ignore
fields they do not know (a newer producer must not break an older consumer)
and reject events that miss a required field.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID, uuid4, uuid5

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

DEFAULT_COLLECTION = "default"
# The tenant of everything done with the keys of DOCINTAKE_API_KEYS, and of events from before tenants.
DEFAULT_TENANT = "default"
# What a source's version became: a source new to its collection, a new version of one, or the same content again.
SourceChange = Literal["added", "replaced", "unchanged"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DocumentRef(Model):
    """One uploaded document: where its bytes are, what the uploader said of it, and the source it is a version of.

    The source is (collection, source_path); an event from before sources existed names none,
    and reads as the source of its filename in the default collection.
    """

    document_id: UUID
    filename: str
    size: int
    sha256: str
    content_type: str = "application/octet-stream"
    bucket: str
    key: str
    metadata: dict[str, Any] = {}
    collection: str = DEFAULT_COLLECTION
    source_path: str = Field("", description="The path within the collection; the filename when not given")

    @model_validator(mode="before")
    @classmethod
    def _source_path_defaults_to_the_filename(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("source_path") and isinstance(data.get("filename"), str):
            return {**data, "source_path": data["filename"]}
        return data


class Event(Model):
    """The envelope shared by every event."""

    routing_key: ClassVar[str]

    event_id: UUID = Field(default_factory=uuid4)
    event_type: str
    schema_version: int = 1
    occurred_at: datetime = Field(default_factory=utcnow)
    batch_id: UUID
    document_id: UUID | None = None
    tenant: str = Field(default=DEFAULT_TENANT, description="The tenant whose batch (or deletion) this is")
    key_id: str | None = Field(
        default=None, description="The id (never the key) of the API key whose request made this event, for audit"
    )
    data: Model

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


# ----- data of each event -----


class BatchCreatedData(Model):
    documents: list[DocumentRef]
    warnings: list[str] = []
    callback_url: str | None = Field(
        default=None, description="A URL the upload named to be told, by a signed POST, of the batch's completion"
    )
    callback_documents: bool = Field(
        default=False, description="Whether the callback_url is told each document's outcome too"
    )


class DocumentQueuedData(Model):
    document: DocumentRef
    attempt: int = 1


class Timings(Model):
    fetch_ms: float = 0
    parse_ms: float = 0
    write_ms: float = 0
    total_ms: float = 0


# How a document's text was got: its own text (a text layer), OCR of page images, or some of each.
Extraction = Literal["native", "ocr", "mixed"]


class DocumentIngestedData(Model):
    filename: str
    sha256: str
    detected_type: str
    pages: int
    chunks: int
    characters: int
    extraction: Extraction = Field(
        "native", description="How the text was got: the file's own text, OCR of page images, or some of each"
    )
    ocr_pages: int = Field(0, description="Pages (or images) whose text came from OCR")
    timings: Timings = Timings()
    attempt: int = 1
    collection: str = DEFAULT_COLLECTION
    source_path: str = ""
    change: SourceChange = "added"


class DocumentFailedData(Model):
    filename: str
    error_code: str
    message: str
    retryable: bool = False
    attempts: int = 1
    attempt: int = 1


class OcrRequestedData(Model):
    document: DocumentRef
    attempt: int = 1
    ocr_pages: int = Field(description="Pages (or images) the text pass found that need OCR")


class DocumentProgressedData(Model):
    filename: str
    attempt: int = 1
    pages_done: int = Field(description="Pages OCR'd so far")
    pages_total: int = Field(description="Pages this document has to have OCR'd")


class BatchCompletedData(Model):
    status: Literal["completed", "partial_failure", "failed", "cancelled"]
    total_documents: int
    processed_count: int
    failed_count: int
    cancelled_count: int = 0
    unchanged_count: int = 0
    removed_count: int = Field(0, description="Sources removed, in a deletion's completion")
    kind: Literal["ingest", "deletion"] = Field("ingest", description="A batch of uploads, or a deletion")
    completed_at: datetime
    processing_time_seconds: float
    # 0 at first; higher each time the batch announces a changed outcome (a retry, a late result):
    # the highest is current.
    completion_round: int = 0


class BatchCancelledData(Model):
    reason: str = "cancelled by request"


class DocumentRemovedData(Model):
    collection: str
    source_path: str
    sha256: str = Field(description="The content the source no longer has")
    reason: Literal["deleted", "replaced"]
    document_deleted: bool = Field(description="Whether the content left the graph (no other source has it)")


class SourceToRemove(Model):
    """One source a deletion removes, under the id of its removal (the document_id of its DocumentRemoved)."""

    removal_id: UUID
    collection: str
    source_path: str
    sha256: str = Field(description="The content the source had when the deletion was asked for")


def removal_id(deletion_id: UUID, collection: str, source_path: str) -> UUID:
    """The id of one source's removal within a deletion: the same whoever computes it."""
    return uuid5(deletion_id, f"{collection}\n{source_path}")


# What a deletion was asked to remove: named sources of a collection, a whole collection, or the sources
# whose current version a batch wrote.
DeletionScope = Literal["sources", "collection", "batch"]


class DeletionRequestedData(Model):
    scope: DeletionScope
    collection: str | None = Field(None, description="The collection, for the scopes sources and collection")
    of_batch_id: UUID | None = Field(None, description="The batch whose documents are deleted, for the scope batch")
    sources: list[SourceToRemove]


# ----- the events -----


class BatchCreated(Event):
    routing_key: ClassVar[str] = "batch.created"
    event_type: Literal["docintake.batch.created"] = "docintake.batch.created"
    data: BatchCreatedData


class DocumentQueued(Event):
    routing_key: ClassVar[str] = "document.queued"
    event_type: Literal["docintake.document.queued"] = "docintake.document.queued"
    document_id: UUID
    data: DocumentQueuedData


class DocumentIngested(Event):
    routing_key: ClassVar[str] = "document.ingested"
    event_type: Literal["docintake.document.ingested"] = "docintake.document.ingested"
    document_id: UUID
    data: DocumentIngestedData


class DocumentFailed(Event):
    routing_key: ClassVar[str] = "document.failed"
    event_type: Literal["docintake.document.failed"] = "docintake.document.failed"
    document_id: UUID
    data: DocumentFailedData


class OcrRequested(Event):
    """A command: the text pass found pages that need OCR; an OCR worker reads the document (from the queue
    docintake.ingestor.ocr) and publishes its outcome. The document is processing meanwhile."""

    routing_key: ClassVar[str] = "document.ocr_requested"
    event_type: Literal["docintake.document.ocr_requested"] = "docintake.document.ocr_requested"
    document_id: UUID
    data: OcrRequestedData

    def as_queued(self) -> "DocumentQueued":
        """The DocumentQueued it continues: the same document and attempt, so the same outcome ids."""
        return DocumentQueued(event_id=self.event_id, occurred_at=self.occurred_at, batch_id=self.batch_id,
                              document_id=self.document_id, tenant=self.tenant, key_id=self.key_id,
                              data=DocumentQueuedData(document=self.data.document, attempt=self.data.attempt))


class DocumentProgressed(Event):
    """A long OCR job moving: pages OCR'd so far of the pages it has."""

    routing_key: ClassVar[str] = "document.progressed"
    event_type: Literal["docintake.document.progressed"] = "docintake.document.progressed"
    document_id: UUID
    data: DocumentProgressedData


class BatchCompleted(Event):
    routing_key: ClassVar[str] = "batch.completed"
    event_type: Literal["docintake.batch.completed"] = "docintake.batch.completed"
    data: BatchCompletedData

    @staticmethod
    def id_for(batch_id: UUID) -> UUID:
        """The one event id a batch's completion carries, so that a re-publish is a duplicate."""
        return uuid5(batch_id, "batch.completed")


class BatchCancelled(Event):
    routing_key: ClassVar[str] = "batch.cancelled"
    event_type: Literal["docintake.batch.cancelled"] = "docintake.batch.cancelled"
    data: BatchCancelledData = BatchCancelledData()


class DocumentRemoved(Event):
    """A version of a source left the collection: replaced by a new version (batch_id and document_id
    are then the upload that replaced it) or deleted."""

    routing_key: ClassVar[str] = "document.removed"
    event_type: Literal["docintake.document.removed"] = "docintake.document.removed"
    document_id: UUID
    data: DocumentRemovedData


class DeletionRequested(Event):
    """A command: remove these sources (the ingestor does, one DocumentRemoved each). Its batch_id is
    the deletion's id, under which the status service keeps its progress like a batch's."""

    routing_key: ClassVar[str] = "deletion.requested"
    event_type: Literal["docintake.deletion.requested"] = "docintake.deletion.requested"
    data: DeletionRequestedData

    @staticmethod
    def id_for(deletion_id: UUID) -> UUID:
        return uuid5(deletion_id, "deletion.requested")


ALL_EVENTS: tuple[type[Event], ...] = (
    BatchCreated,
    DocumentQueued,
    DocumentIngested,
    DocumentFailed,
    BatchCompleted,
    BatchCancelled,
    DocumentRemoved,
    DeletionRequested,
    OcrRequested,
    DocumentProgressed,
)

AnyEvent = Annotated[
    BatchCreated | DocumentQueued | DocumentIngested | DocumentFailed | BatchCompleted | BatchCancelled
    | DocumentRemoved | DeletionRequested | OcrRequested | DocumentProgressed,
    Field(discriminator="event_type"),
]
_any_event: TypeAdapter[Event] = TypeAdapter(AnyEvent)


def parse_event(body: bytes | str | dict[str, Any]) -> Event:
    """Turn a message body into its event; raises pydantic.ValidationError when it is not one."""
    if isinstance(body, dict):
        return _any_event.validate_python(body)
    return _any_event.validate_json(body)
