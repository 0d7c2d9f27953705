"""The projection: events folded into their batch's progress record, each event once."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from docintake.contracts.events import Event
from docintake.status.domain.progress import Batch, is_progress
from docintake.status.service_layer.ports import ProgressRepository


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Projected:
    outcomes: list[Outcome]
    # The batch as committed, when this change made its completion due (only that change announces it).
    completion_due: Batch | None = None


async def apply_events(events: Sequence[Event], repo: ProgressRepository) -> Projected:
    """Fold events of one batch into its record in one change, each event once; the outcome of each."""
    progress = [event for event in events if is_progress(event)]
    if not progress:
        return Projected([_outcome(event, set()) for event in events])

    def fold(batch: Batch, claimed: Collection[UUID]) -> tuple[set[UUID], bool]:
        was_due = batch.completion_due
        folded: set[UUID] = set()
        for event in progress:
            if event.event_id in claimed and event.event_id not in folded:
                batch.apply(event)
                folded.add(event.event_id)
        return folded, batch.completion_due and not was_due

    change = await repo.apply_once([event.event_id for event in progress], progress[0].batch_id, fold)
    if change is None:
        return Projected([_outcome(event, set()) for event in events])
    applied, became_due = change.outcome
    return Projected([_outcome(event, applied) for event in events], change.batch if became_due else None)


def _outcome(event: Event, applied: set[UUID]) -> Outcome:
    if not is_progress(event):
        return Outcome.IGNORED
    if event.event_id in applied:
        applied.discard(event.event_id)  # a second copy in the same group is a duplicate
        return Outcome.APPLIED
    return Outcome.DUPLICATE
