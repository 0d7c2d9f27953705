"""The BatchCompleted event a batch announces each time it reaches a terminal state."""

from uuid import UUID, uuid5

from docintake.contracts.events import BatchCompleted, BatchCompletedData
from docintake.status.domain.progress import Batch


def completion_event_id(batch_id: UUID, completion_round: int) -> UUID:
    """The id of a batch's completion in one round: the same every time that round is re-published.

    The first round uses the contract's BatchCompleted.id_for; a retried batch completes again
    under a new id, so that consumers do not drop the new outcome as a duplicate.
    """
    if completion_round == 0:
        return BatchCompleted.id_for(batch_id)
    return uuid5(batch_id, f"batch.completed.{completion_round}")


def completion_event(batch: Batch) -> BatchCompleted:
    """The completion of a finished batch; re-building it later yields the same event."""
    completed_at, status = batch.completed_at, batch.status
    if completed_at is None or status == "in_progress":
        raise ValueError(f"batch {batch.batch_id} is still in progress")
    counts = batch.counts
    return BatchCompleted(
        event_id=completion_event_id(batch.batch_id, batch.completion_round),
        occurred_at=completed_at,
        batch_id=batch.batch_id,
        tenant=batch.tenant,
        data=BatchCompletedData(
            status=status,
            **counts.reported(),
            kind=batch.kind,
            completed_at=completed_at,
            processing_time_seconds=batch.processing_time_seconds or 0.0,
            completion_round=batch.completion_round,
        ),
    )
