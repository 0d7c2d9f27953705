"""A deletion's progress, kept like a batch's: its sources are its documents, removed one by one."""

import itertools
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from docintake.contracts.events import (
    DeletionRequested,
    DeletionRequestedData,
    DocumentRemoved,
    DocumentRemovedData,
    SourceToRemove,
    removal_id,
)
from docintake.status.domain.completion import completion_event
from docintake.status.domain.progress import Batch, is_progress
from docintake.status.domain.refusals import NothingToRetry
from docintake.status.domain.views import batch_status

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def deletion_events(*paths: str) -> list:
    deletion_id = uuid4()
    sources = [SourceToRemove(removal_id=removal_id(deletion_id, "kb", p), collection="kb", source_path=p,
                              sha256="ab" * 32) for p in paths]
    requested = DeletionRequested(batch_id=deletion_id, occurred_at=T0, data=DeletionRequestedData(
        scope="collection", collection="kb", sources=sources))
    removed = [DocumentRemoved(batch_id=deletion_id, document_id=s.removal_id,
                               occurred_at=T0 + timedelta(seconds=i + 1),
                               data=DocumentRemovedData(collection="kb", source_path=s.source_path, sha256=s.sha256,
                                                        reason="deleted", document_deleted=True))
               for i, s in enumerate(sources)]
    return [requested, *removed]


def folded(events) -> Batch:
    batch = Batch(events[0].batch_id)
    for event in events:
        batch.apply(event)
    return batch


def test_a_deletion_is_in_progress_until_every_source_is_removed_then_completed():
    events = deletion_events("a.md", "b/c.md")
    assert folded(events[:2]).status == "in_progress"
    batch = folded(events)
    status = batch_status(batch, T0)
    assert (status.kind, status.status, status.total_documents, status.removed_count) == ("deletion", "completed", 2, 2)
    assert {(d.source_path, d.outcome) for d in status.documents} == {("a.md", "removed"), ("b/c.md", "removed")}
    completed = completion_event(batch)
    assert (completed.data.kind, completed.data.removed_count) == ("deletion", 2)


def test_every_order_and_duplication_of_a_deletions_events_converges():
    events = deletion_events("a.md", "b.md", "c.md")
    expected = batch_status(folded(events), T0)
    for order in itertools.permutations(events + events[1:2]):
        assert batch_status(folded(list(order)), T0) == expected


def test_a_replaced_versions_removal_moves_no_record():
    [_, removed] = deletion_events("a.md")
    replaced = removed.model_copy(update={"data": removed.data.model_copy(update={"reason": "replaced"})})
    assert is_progress(removed) and not is_progress(replaced)


def test_a_deletion_is_not_retried():
    batch = folded(deletion_events("a.md"))
    with pytest.raises(NothingToRetry):
        batch.retryable_documents()
