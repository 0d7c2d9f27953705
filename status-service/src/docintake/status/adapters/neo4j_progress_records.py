"""How a Batch and its documents are kept as the properties of (:IngestBatch) and (:IngestItem) nodes.

Times are kept as seconds since the epoch: the driver turns a float around many times faster than
its own DateTime, and every event reads back every item of its batch.
"""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from docintake.contracts.events import DocumentRef
from docintake.status.domain.progress import Batch, DocumentProgress, DocumentState

Properties = dict[str, Any]


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
        "finished_at": stored_time(item.finished_at),
        "progressed_at": stored_time(item.progressed_at),
    }


def item_from_properties(props: Properties) -> DocumentProgress:
    return DocumentProgress(
        document_id=UUID(props["document_id"]),
        attempt=props["attempt"],
        state=DocumentState(props["state"]),
        queued=props.get("queued", False),
        ref=DocumentRef.model_validate_json(props["ref"]) if props.get("ref") else None,
        reported_filename=props.get("reported_filename"),
        error=props.get("error"),
        error_code=props.get("error_code"),
        finished_at=_native(props.get("finished_at")),
        progressed_at=_native(props.get("progressed_at")),
    )


def batch_from_properties(props: Properties, items: list[Properties]) -> Batch:
    """A batch node that was only just created carries nothing but its id: the defaults fill the rest."""
    return Batch(
        batch_id=UUID(props["batch_id"]),
        created_at=_native(props.get("created_at")),
        manifest_known=props.get("manifest_known", False),
        cancelled_at=_native(props.get("cancelled_at")),
        completion_round=props.get("completion_round", 0),
        completion_published=props.get("completion_published", False),
        updated_at=_native(props.get("updated_at")),
        documents={item.document_id: item for item in map(item_from_properties, items)},
    )
