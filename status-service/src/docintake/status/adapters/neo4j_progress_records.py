"""How a Batch and its documents are kept as the properties of (:IngestBatch) and (:IngestItem) nodes.

Times are kept as seconds since the epoch: the driver turns a float around many times faster than
its own DateTime, and every event reads back every item of its batch.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar
from uuid import UUID

from docintake.contracts.events import DEFAULT_TENANT, DocumentRef
from docintake.status.domain.progress import AuditEntry, Batch, DocumentProgress, DocumentState
from docintake.status.domain.refusals import UnreadableRecord

T = TypeVar("T")
Properties = dict[str, Any]
# Set on a batch node whose record does not load back, with the label QUARANTINED; kept for an operator.
QUARANTINED_REASON = "quarantined_reason"
QUARANTINED_DETAIL = "quarantined_detail"
QUARANTINED = "QuarantinedIngestBatch"


def stored_time(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _native(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


# The key properties (batch_id, document_id) are written only by MERGE: setting a uniquely
# constrained property again, even to the same value, takes the constraint's lock and deadlocks
# with a concurrent MERGE of the same batch.


def batch_properties(batch: Batch) -> Properties:
    """The record itself plus its derived figures, kept on the node so queries can filter and sort."""
    counts = batch.counts
    return {
        "kind": batch.kind,
        "tenant": batch.tenant,
        "audit": [json.dumps([entry.at.timestamp(), entry.action, entry.key_id]) for entry in sorted(batch.audit)],
        "created_at": stored_time(batch.created_at),
        "manifest_known": batch.manifest_known,
        "cancelled_at": stored_time(batch.cancelled_at),
        "completion_round": batch.completion_round,
        "completion_published": batch.completion_published,
        "updated_at": stored_time(batch.updated_at),
        "status": batch.status,
        "total_documents": counts.total,
        "processed_count": counts.ingested,
        "failed_count": counts.failed,
        "cancelled_count": counts.cancelled,
        "unchanged_count": counts.unchanged,
        "removed_count": counts.removed,
        "pending_count": counts.pending,
        "completed_at": stored_time(batch.completed_at),
    }


def item_properties(batch_id: UUID, item: DocumentProgress) -> Properties:
    return {
        "batch_id": str(batch_id),
        "attempt": item.attempt,
        "state": item.state.value,
        "queued": item.queued,
        "filename": item.filename,
        "reported_filename": item.reported_filename,
        "ref": item.ref.model_dump_json() if item.ref is not None else None,
        "size": item.ref.size if item.ref is not None else None,
        "error": item.error,
        "error_code": item.error_code,
        "updated": item.updated,
        "finished_at": stored_time(item.finished_at),
        "progressed_at": stored_time(item.progressed_at),
        "ocr_pages_done": item.ocr_pages_done,
        "ocr_pages_total": item.ocr_pages_total,
    }


# Refs read back that are remembered: a change reads back every item of its batch, and a ref, frozen,
# never changes once its document is known, so each is parsed about once.
REMEMBERED_REFS = 10_000


@lru_cache(maxsize=REMEMBERED_REFS)
def _ref(kept: str) -> DocumentRef:
    return DocumentRef.model_validate_json(kept)


def item_from_properties(props: Properties) -> DocumentProgress:
    return DocumentProgress(
        document_id=UUID(props["document_id"]),
        attempt=props["attempt"],
        state=DocumentState(props["state"]),
        queued=props.get("queued", False),
        ref=_ref(props["ref"]) if props.get("ref") else None,
        reported_filename=props.get("reported_filename"),
        error=props.get("error"),
        error_code=props.get("error_code"),
        updated=props.get("updated", False),
        finished_at=_native(props.get("finished_at")),
        progressed_at=_native(props.get("progressed_at")),
        ocr_pages_done=props.get("ocr_pages_done", 0),
        ocr_pages_total=props.get("ocr_pages_total"),
    )


def batch_from_properties(props: Properties, documents: list[DocumentProgress]) -> Batch:
    """A batch node that was only just created carries nothing but its id: the defaults fill the rest."""
    return Batch(
        batch_id=UUID(props["batch_id"]),
        kind=props.get("kind", "ingest"),
        created_at=_native(props.get("created_at")),
        manifest_known=props.get("manifest_known", False),
        cancelled_at=_native(props.get("cancelled_at")),
        completion_round=props.get("completion_round", 0),
        completion_published=props.get("completion_published", False),
        updated_at=_native(props.get("updated_at")),
        documents={document.document_id: document for document in documents},
        tenant=props.get("tenant", DEFAULT_TENANT),
        audit={_audit_entry(json.loads(kept)) for kept in props.get("audit", [])},
    )


def _audit_entry(kept: list[Any]) -> AuditEntry:
    at, action, key_id = kept
    return AuditEntry(datetime.fromtimestamp(at, UTC), action, key_id)


def load_batch(props: Properties, items: list[Properties]) -> Batch:
    """The batch a node and its items keep; raises UnreadableRecord for one quarantined, or that does not load."""
    batch_id = props.get("batch_id")
    if (reason := props.get(QUARANTINED_REASON)) is not None:
        raise UnreadableRecord(batch_id, reason, props.get(QUARANTINED_DETAIL, ""))
    documents = [_loaded(batch_id, f"item {item.get('document_id')}", item_from_properties, item) for item in items]
    return _loaded(batch_id, "the batch node", lambda batch: batch_from_properties(batch, documents), props)


def _loaded(batch_id: object, part: str, load: Callable[[Properties], T], props: Properties) -> T:
    try:
        return load(props)
    except Exception as exc:  # noqa: BLE001 - whatever keeps stored properties from loading makes them unreadable
        raise UnreadableRecord(batch_id, f"{part} does not load back ({type(exc).__name__})", str(exc)) from exc
