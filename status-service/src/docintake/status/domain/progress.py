"""Batch progress as a pure model: each document's state machine and the batch status derived from it.

Nothing here does I/O. The projection loads a Batch, folds events into it and saves it back;
everything a client sees (counts, status, times) is derived from the documents' states and the
events' own `occurred_at`, never from counters or the time an event arrived. So folding the
events of a batch, in any order and with duplicates, into an empty record gives the same record.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from docintake.contracts.api import AuditAction, BatchKind, BatchState, DocumentOutcome
from docintake.contracts.events import (
    DEFAULT_TENANT,
    BatchCancelled,
    BatchCreated,
    DeletionRequested,
    DocumentFailed,
    DocumentIngested,
    DocumentProgressed,
    DocumentQueued,
    DocumentRef,
    DocumentRemoved,
    Event,
    OcrRequested,
    SourceToRemove,
)
from docintake.status.domain.refusals import BatchAlreadyFinished, BatchIsCancelled, NothingToRetry

TIMED_OUT = "TIMED_OUT"
NOT_QUEUED = "NOT_QUEUED"
# Failures this service concludes by itself, for want of news; the real outcome, should it come, replaces them.
PRESUMED_FAILURES = frozenset({TIMED_OUT, NOT_QUEUED})
RECENT_FINISHES = 20  # how many recent finishes the completion estimate is based on

PROGRESS_EVENTS: tuple[type[Event], ...] = (
    BatchCreated, DocumentQueued, DocumentIngested, DocumentFailed, BatchCancelled, DeletionRequested, DocumentRemoved,
    OcrRequested, DocumentProgressed,
)


def is_progress(event: Event) -> bool:
    """Whether the event moves a record: a DocumentRemoved only as a deletion's (a replaced version's is
    told by its upload's DocumentIngested)."""
    if isinstance(event, DocumentRemoved):
        return event.data.reason == "deleted"
    return isinstance(event, PROGRESS_EVENTS)


class DocumentState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    INGESTED = "ingested"
    # The content its source had already: not written again.
    UNCHANGED = "unchanged"
    # A source a deletion removed.
    REMOVED = "removed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return _RANK[self] == _TERMINAL_RANK


_TERMINAL_RANK = 2
_RANK = {
    DocumentState.QUEUED: 0,
    DocumentState.PROCESSING: 1,
    DocumentState.INGESTED: _TERMINAL_RANK,
    DocumentState.UNCHANGED: _TERMINAL_RANK,
    DocumentState.REMOVED: _TERMINAL_RANK,
    DocumentState.FAILED: _TERMINAL_RANK,
    DocumentState.CANCELLED: _TERMINAL_RANK,
}
UNFINISHED_STATES = tuple(state for state in DocumentState if not state.is_terminal)
SUCCEEDED_STATES = (DocumentState.INGESTED, DocumentState.UNCHANGED, DocumentState.REMOVED)
_OUTCOMES: dict[DocumentState, DocumentOutcome] = {
    DocumentState.QUEUED: "queued",
    DocumentState.PROCESSING: "processing",
    DocumentState.INGESTED: "ingested",
    DocumentState.UNCHANGED: "unchanged",
    DocumentState.REMOVED: "removed",
    DocumentState.FAILED: "failed",
    DocumentState.CANCELLED: "cancelled",
}


def removal_ref(source: SourceToRemove) -> DocumentRef:
    """A source a deletion removes, kept as a document of its record: named by its path, with no upload."""
    return DocumentRef(
        document_id=source.removal_id, filename=source.source_path.rpartition("/")[2] or source.source_path,
        content_type="", size=0, sha256=source.sha256, bucket="", key="",
        collection=source.collection, source_path=source.source_path,
    )


@dataclass(frozen=True, order=True)
class AuditEntry:
    at: datetime
    action: AuditAction
    key_id: str


def audited_action(event: Event) -> AuditAction | None:
    """What a client asked for, if the event is the request of one (it then names the key)."""
    if event.key_id is None:
        return None
    match event:
        case BatchCreated():
            return "created"
        case BatchCancelled():
            return "cancelled"
        case DocumentQueued() if event.data.attempt > 1:
            return "retried"
        case DeletionRequested():
            return "deletion requested"
    return None


def _latest(known: datetime | None, at: datetime) -> datetime:
    return at if known is None else max(known, at)


@dataclass
class DocumentProgress:
    """One document of a batch, within its current attempt."""

    document_id: UUID
    attempt: int = 1
    state: DocumentState = DocumentState.QUEUED
    # Whether the DocumentQueued of the current attempt arrived (a document BatchCreated lists is not queued yet).
    queued: bool = False
    ref: DocumentRef | None = None
    reported_filename: str | None = None
    error: str | None = None
    error_code: str | None = None
    # Ingested as a new version of its source, replacing the one it had.
    updated: bool = False
    finished_at: datetime | None = None
    # When anything was last heard of the document: the latest occurred_at of its events.
    progressed_at: datetime | None = None
    # Its OCR, within the current attempt: pages done and pages to do, the most any of its events said (they
    # only grow, so any order of OcrRequested and DocumentProgressed gives the same); None: no OCR asked.
    ocr_pages_done: int = 0
    ocr_pages_total: int | None = None

    @property
    def filename(self) -> str:
        if self.ref is not None:
            return self.ref.filename
        return self.reported_filename or str(self.document_id)

    @property
    def is_finished(self) -> bool:
        return self.state.is_terminal

    @property
    def outcome(self) -> DocumentOutcome:
        return "updated" if self.state is DocumentState.INGESTED and self.updated else _OUTCOMES[self.state]

    @property
    def is_presumed_failed(self) -> bool:
        return self.state is DocumentState.FAILED and self.error_code in PRESUMED_FAILURES

    def follow_attempt(self, attempt: int) -> bool:
        """Whether an event of `attempt` still concerns this document; a newer attempt starts over from queued."""
        if attempt < self.attempt:
            return False
        if attempt > self.attempt:
            self.attempt, self.state, self.queued = attempt, DocumentState.QUEUED, False
            self.error = self.error_code = self.finished_at = None
            self.updated = False
            self.ocr_pages_done, self.ocr_pages_total = 0, None
        return True

    def ocr_progressed(self, pages_done: int, pages_total: int) -> None:
        """Its OCR got at least this far (progress never moves back); the document is being processed."""
        self.ocr_pages_done = max(self.ocr_pages_done, pages_done)
        self.ocr_pages_total = max(self.ocr_pages_total or 0, pages_total, self.ocr_pages_done)

    def advance(self, state: DocumentState, at: datetime, *, error: str | None = None,
                error_code: str | None = None, updated: bool = False) -> bool:
        """Move forward to `state`; the first terminal state of an attempt is final, but for a presumed
        failure, which the attempt's real outcome replaces."""
        real_outcome = state in (*SUCCEEDED_STATES, DocumentState.FAILED) and error_code not in PRESUMED_FAILURES
        if _RANK[state] <= _RANK[self.state] and not (self.is_presumed_failed and real_outcome):
            return False
        self.state = state
        if state.is_terminal:
            self.finished_at, self.error, self.error_code, self.updated = at, error, error_code, updated
        return True

    def heard_of(self, at: datetime) -> None:
        self.progressed_at = _latest(self.progressed_at, at)


@dataclass(frozen=True)
class Counts:
    total: int
    ingested: int
    failed: int
    cancelled: int
    unchanged: int = 0
    removed: int = 0

    @property
    def succeeded(self) -> int:
        return self.ingested + self.unchanged + self.removed

    @property
    def pending(self) -> int:
        return self.total - self.succeeded - self.failed - self.cancelled

    def reported(self) -> dict[str, int]:
        """The counts as the API's BatchStatus and BatchCompleted name them."""
        return {"total_documents": self.total, "processed_count": self.ingested, "failed_count": self.failed,
                "cancelled_count": self.cancelled, "unchanged_count": self.unchanged, "removed_count": self.removed}


@dataclass
class Batch:
    """A batch's progress record: its documents plus what the batch-level events said."""

    batch_id: UUID
    # A batch of uploads, or a deletion: its documents are then the sources it removes.
    kind: BatchKind = "ingest"
    created_at: datetime | None = None
    # Whether the full list of documents is known: from a BatchCreated (the gateway's, or the one the
    # stall sweeper publishes for a batch whose own never came).
    manifest_known: bool = False
    cancelled_at: datetime | None = None
    # A finished batch announces its outcome once per round; when it changes after finishing, a new round opens.
    completion_round: int = 0
    completion_published: bool = False
    # The latest occurred_at of the events folded in.
    updated_at: datetime | None = None
    documents: dict[UUID, DocumentProgress] = field(default_factory=dict)
    # Whose batch it is, as its events say.
    tenant: str = DEFAULT_TENANT
    # Who asked for what of it (its requests' events), each once.
    audit: set[AuditEntry] = field(default_factory=set)
    # Kept by the fold, so that neither costs a walk of every document per event: the documents changed
    # since the record was loaded or saved, and how many documents are in each state (None: count anew).
    _changed: set[UUID] = field(default_factory=set, init=False, repr=False, compare=False)
    _tally: Counter[DocumentState] | None = field(default=None, init=False, repr=False, compare=False)

    # ----- derived -----

    @property
    def counts(self) -> Counts:
        if self._tally is None:
            self._tally = Counter(document.state for document in self.documents.values())
        states = self._tally
        return Counts(
            total=len(self.documents),
            ingested=states[DocumentState.INGESTED],
            failed=states[DocumentState.FAILED],
            cancelled=states[DocumentState.CANCELLED],
            unchanged=states[DocumentState.UNCHANGED],
            removed=states[DocumentState.REMOVED],
        )

    @property
    def status(self) -> BatchState:
        return self._status_of(self.counts)

    def _status_of(self, counts: Counts) -> BatchState:
        if not self.manifest_known or counts.pending:
            return "in_progress"
        if self.cancelled_at is not None:
            return "cancelled"
        if counts.succeeded == counts.total:
            return "completed"
        if counts.succeeded:
            return "partial_failure"
        return "failed"

    @property
    def is_finished(self) -> bool:
        return self.status != "in_progress"

    @property
    def completion_due(self) -> bool:
        return self.is_finished and not self.completion_published

    @property
    def completed_at(self) -> datetime | None:
        if not self.is_finished:
            return None
        finishes = [doc.finished_at for doc in self.documents.values() if doc.finished_at is not None]
        return max(finishes, default=self.cancelled_at or self.created_at)

    @property
    def processing_time_seconds(self) -> float | None:
        completed_at = self.completed_at
        if completed_at is None or self.created_at is None:
            return None
        return max(0.0, (completed_at - self.created_at).total_seconds())

    @property
    def failed_documents(self) -> list[DocumentProgress]:
        failed = (doc for doc in self.documents.values() if doc.state is DocumentState.FAILED)
        return sorted(failed, key=lambda doc: (doc.filename, str(doc.document_id)))

    @property
    def itemised_documents(self) -> list[DocumentProgress]:
        return sorted(self.documents.values(), key=lambda doc: (doc.filename, str(doc.document_id)))

    def estimated_completion(self, now: datetime) -> datetime | None:
        """When the batch should finish at its recent pace; None until a document finished, or once done."""
        if self.is_finished:
            return None
        finishes = sorted(doc.finished_at for doc in self.documents.values() if doc.finished_at is not None)
        if not finishes:
            return None
        recent = finishes[-RECENT_FINISHES:]
        since = finishes[-RECENT_FINISHES - 1] if len(finishes) > RECENT_FINISHES else self.created_at
        # min(): timestamps come from other services' clocks, which may disagree a little.
        since = min(since or recent[0], recent[0])
        # Measured up to now, not to the last finish, so that the pace drops while nothing finishes.
        seconds_per_document = max((now - since).total_seconds(), 1e-3) / len(recent)
        return now + timedelta(seconds=seconds_per_document * self.counts.pending)

    # ----- events -----

    def apply(self, event: Event) -> None:
        """Fold one event into the record; applying it again, or in another order, converges."""
        before = self._outcome()
        known = self.documents.get(event.document_id) if event.document_id is not None else None
        state_before = known.state if known is not None else DocumentState.QUEUED  # as _document adds it
        at = event.occurred_at
        if event.tenant != DEFAULT_TENANT:
            self.tenant = event.tenant
        if (action := audited_action(event)) is not None and event.key_id is not None:
            self.audit.add(AuditEntry(at, action, event.key_id))
        match event:
            case BatchCreated():
                self._take_manifest(event)
            case DocumentQueued():
                document = self._document(event.document_id)
                document.ref = document.ref or event.data.document
                if document.follow_attempt(event.data.attempt):
                    document.queued = True
            case DocumentIngested():
                document = self._document(event.document_id)
                document.reported_filename = document.reported_filename or event.data.filename
                if document.follow_attempt(event.data.attempt):
                    unchanged = event.data.change == "unchanged"
                    document.advance(DocumentState.UNCHANGED if unchanged else DocumentState.INGESTED, at,
                                     updated=event.data.change == "replaced")
            case DocumentFailed():
                document = self._document(event.document_id)
                document.reported_filename = document.reported_filename or event.data.filename
                if document.follow_attempt(event.data.attempt):
                    document.advance(DocumentState.FAILED, at, error=event.data.message,
                                     error_code=event.data.error_code)
            case OcrRequested():
                document = self._document(event.document_id)
                document.ref = document.ref or event.data.document
                if document.follow_attempt(event.data.attempt):
                    document.queued = True  # the ingestor had it: it handed it to OCR
                    document.ocr_progressed(0, event.data.ocr_pages)
                    document.advance(DocumentState.PROCESSING, at)
            case DocumentProgressed():
                document = self._document(event.document_id)
                document.reported_filename = document.reported_filename or event.data.filename
                if document.follow_attempt(event.data.attempt):
                    document.queued = True
                    document.ocr_progressed(event.data.pages_done, event.data.pages_total)
                    document.advance(DocumentState.PROCESSING, at)
            case DeletionRequested():
                self._take_deletion(event)
            case DocumentRemoved() if event.data.reason == "deleted":
                document = self._document(event.document_id)
                document.reported_filename = document.reported_filename or event.data.source_path
                document.advance(DocumentState.REMOVED, at)
            case BatchCancelled():
                if not self.is_finished and self.cancelled_at is None:
                    self.cancelled_at = at
        if event.document_id is not None and event.document_id in self.documents:
            document = self._document(event.document_id)
            document.heard_of(at)
            self._retally(state_before, document.state)
        if not self.manifest_known:
            # Until a BatchCreated arrives, the batch started with the earliest event seen.
            self.created_at = min(filter(None, (self.created_at, at)))
        self.updated_at = _latest(self.updated_at, at)
        self._settle(before)

    def _take_manifest(self, event: BatchCreated) -> None:
        # The earliest BatchCreated's time is the batch's, whatever the document events said before.
        self.created_at = event.occurred_at if not self.manifest_known else min(
            filter(None, (self.created_at, event.occurred_at)))
        self.manifest_known = True
        for ref in event.data.documents:
            document = self._document(ref.document_id)
            document.ref = ref  # the manifest is authoritative over what DocumentQueued repeated
            document.heard_of(event.occurred_at)

    def _take_deletion(self, event: DeletionRequested) -> None:
        self.kind = "deletion"
        self.created_at = event.occurred_at if not self.manifest_known else min(
            filter(None, (self.created_at, event.occurred_at)))
        self.manifest_known = True
        for source in event.data.sources:
            document = self._document(source.removal_id)
            document.ref = removal_ref(source)
            document.queued = True  # the ingestor has it as soon as the deletion is out
            document.heard_of(event.occurred_at)

    def _document(self, document_id: UUID) -> DocumentProgress:
        """The document, added if new; either way counted as changed."""
        self._changed.add(document_id)
        if document_id not in self.documents:
            self.documents[document_id] = DocumentProgress(document_id)
            self._retally(None, DocumentState.QUEUED)
        return self.documents[document_id]

    def _retally(self, was: DocumentState | None, now: DocumentState) -> None:
        if self._tally is not None and was is not now:
            if was is not None:
                self._tally[was] -= 1
            self._tally[now] += 1

    @property
    def changed_documents(self) -> list[DocumentProgress]:
        """The documents changed since the record was loaded or `saved`."""
        return [self.documents[document_id] for document_id in self._changed]

    def saved(self) -> None:
        """The record as it now is was stored: nothing of it has changed since."""
        self._changed.clear()

    def _outcome(self) -> tuple[BatchState, Counts]:
        counts = self.counts
        return self._status_of(counts), counts

    def _settle(self, before: tuple[BatchState, Counts]) -> None:
        """Restore what must hold after a change that started from the outcome `before`."""
        if self.cancelled_at is not None:
            for document in self.documents.values():
                was = document.state
                if document.advance(DocumentState.CANCELLED, self.cancelled_at):
                    document.heard_of(self.cancelled_at)
                    self._changed.add(document.document_id)
                    self._retally(was, document.state)
        finished_before = before[0] != "in_progress"
        if finished_before and self._outcome() != before:
            # A finished batch changed (a retry, a newer attempt): its next outcome is announced anew.
            self.completion_round += 1
            self.completion_published = False

    # ----- commands -----

    def check_cancellable(self) -> None:
        if self.is_finished:
            raise BatchAlreadyFinished(f"batch {self.batch_id} already finished ({self.status})")
        if self.cancelled_at is not None:  # still waiting for its BatchCreated
            raise BatchIsCancelled(f"batch {self.batch_id} was cancelled")

    def retryable_documents(self) -> list[DocumentProgress]:
        """The failed documents whose upload is known, to be queued again; refuses if there is none."""
        if self.cancelled_at is not None:
            raise BatchIsCancelled(f"batch {self.batch_id} was cancelled")
        if self.kind == "deletion":
            raise NothingToRetry(f"deletion {self.batch_id} is not retried; delete what is left again")
        retryable = [doc for doc in self.failed_documents if doc.ref is not None]
        if not retryable:
            raise NothingToRetry(f"batch {self.batch_id} has no failed document to retry")
        return retryable

    def mark_completion_published(self, completion_round: int) -> None:
        """A round's completion went out; one of a round since superseded changes nothing."""
        if completion_round == self.completion_round:
            self.completion_published = True
