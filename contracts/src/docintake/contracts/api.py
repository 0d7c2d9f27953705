"""The HTTP API's shared shapes: the error envelope and the batch status documents."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel

BatchState = Literal["in_progress", "completed", "partial_failure", "failed", "cancelled"]
TERMINAL_STATES: frozenset[str] = frozenset({"completed", "partial_failure", "failed", "cancelled"})


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer: {"error": {"code": "BATCH_TOO_LARGE", "message": "..."}}."""

    error: ErrorDetail


class FailedDocument(BaseModel):
    document_id: UUID | None = None
    filename: str
    error: str
    error_code: str | None = None


DocumentOutcome = Literal[
    "queued", "processing", "ingested", "updated", "unchanged", "removed", "failed", "cancelled",
]
# A batch of uploads, or a deletion kept like one (its documents are the sources it removes).
BatchKind = Literal["ingest", "deletion"]


class DocumentEntry(BaseModel):
    """What happened to one document of a batch: `updated` is a new version of its source, `unchanged` the
    content its source already had."""

    document_id: UUID
    filename: str
    collection: str | None = None
    source_path: str | None = None
    outcome: DocumentOutcome
    # Its OCR, while (and after) OCR workers read it: pages OCR'd so far of the pages it has; None without OCR.
    ocr_pages_done: int | None = None
    ocr_pages_total: int | None = None


class WebhookDelivery(BaseModel):
    """One event's delivery to one callback URL: how often it was tried, and how the last try went."""

    delivery_id: UUID
    url: str
    event_type: str
    state: Literal["pending", "delivered", "given_up"]
    attempts: int
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None


AuditAction = Literal["created", "cancelled", "retried", "deletion requested"]


class AuditEntry(BaseModel):
    """Who asked for what of a batch, and when: the key by its id, never the key."""

    at: datetime
    action: AuditAction
    key_id: str


class BatchStatus(BaseModel):
    batch_id: UUID
    kind: BatchKind = "ingest"
    # The tenant whose batch it is.
    tenant: str = "default"
    status: BatchState
    total_documents: int
    processed_count: int
    failed_count: int
    cancelled_count: int = 0
    unchanged_count: int = 0
    # Sources removed, in a deletion.
    removed_count: int = 0
    pending_count: int = 0
    failed_documents: list[FailedDocument] = []
    # Every document and its outcome; in a batch's own status, not in the list of batches.
    documents: list[DocumentEntry] = []
    created_at: datetime | None = None
    estimated_completion_time: datetime | None = None
    completed_at: datetime | None = None
    processing_time_seconds: float | None = None
    # Who created, cancelled, retried or deleted, oldest first; in a batch's own status, not in the list of batches.
    audit: list[AuditEntry] = []
    # The batch's webhook deliveries, in a batch's own status, not in the list of batches.
    webhooks: list[WebhookDelivery] = []


class BatchPage(BaseModel):
    batches: list[BatchStatus]
    next_cursor: str | None = None


class BatchAccepted(BaseModel):
    batch_id: UUID
    total_documents: int
    status: Literal["in_progress"] = "in_progress"
    message: str
    warnings: list[str] = []


class SourceEntry(BaseModel):
    collection: str
    source_path: str
    sha256: str


class DeletionAccepted(BaseModel):
    """A deletion taken on: what it will remove; its progress is read under deletion_id."""

    deletion_id: UUID
    total_sources: int
    status: Literal["in_progress"] = "in_progress"
    sources: list[SourceEntry]
    message: str


class SyncEntry(BaseModel):
    """A file the client has: its source path in the collection, its content's sha256 and its size."""

    path: str
    sha256: str
    size: int


class SyncRequest(BaseModel):
    sources: list[SyncEntry]


class SyncAnswer(BaseModel):
    """How a client's list compares with a collection: `new`, `changed` and `unchanged` name the paths
    as the client sent them, `absent` the collection's sources (as stored) the list does not name."""

    collection: str
    new: list[str]
    changed: list[str]
    unchanged: list[str]
    absent: list[str]


class PendingBytes(BaseModel):
    """Accepted bytes not yet ingested, of every tenant; and of the tenant asked about, with what it
    uploaded since the start of the day (UTC)."""

    pending_bytes: int
    pending_documents: int
    tenant_pending_bytes: int = 0
    tenant_pending_documents: int = 0
    tenant_uploaded_bytes_today: int = 0


class BatchFinish(BaseModel):
    """When a batch finished, for the services' own housekeeping; None while it runs."""

    batch_id: UUID
    finished_at: datetime | None = None
