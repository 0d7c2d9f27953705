"""A source deleted, as the events that say so.

A deletion (DeletionRequested) names its sources, each under its removal id. Each source is removed in
its own transaction and announced by a DocumentRemoved (reason deleted) whose ids follow from the
deletion and the source, so a redelivered deletion removes nothing twice and announces each source
under the same event id. A source already gone when its removal comes (a redelivery, or a deletion
that named it too) is announced all the same: a subscriber may see one source deleted more than once.
"""

from dataclasses import dataclass
from uuid import uuid5

from docintake.contracts.events import (
    DeletionRequested,
    DocumentFailed,
    DocumentFailedData,
    DocumentRemoved,
    DocumentRemovedData,
    SourceToRemove,
)


@dataclass(frozen=True)
class SourceRemoval:
    """What removing a source did: whether it was there, the content it had, and whether that left the graph."""

    found: bool
    sha256: str
    document_deleted: bool


def removed(event: DeletionRequested, source: SourceToRemove, removal: SourceRemoval) -> DocumentRemoved:
    return DocumentRemoved(
        event_id=uuid5(source.removal_id, "removed"),
        batch_id=event.batch_id,
        tenant=event.tenant,
        document_id=source.removal_id,
        data=DocumentRemovedData(
            collection=source.collection, source_path=source.source_path, sha256=removal.sha256,
            reason="deleted", document_deleted=removal.document_deleted,
        ),
    )


def removal_failed(event: DeletionRequested, source: SourceToRemove, code: str, message: str) -> DocumentFailed:
    return DocumentFailed(
        event_id=uuid5(source.removal_id, "removed"),
        batch_id=event.batch_id,
        tenant=event.tenant,
        document_id=source.removal_id,
        data=DocumentFailedData(filename=source.source_path, error_code=code, message=message),
    )
