"""Events grouped per batch: a batch's events are applied one change at a time, and the events that arrive
while a change is under way go together in the next one.

Changes of one batch serialise on the batch anyway; grouping them turns a queue of small
transactions waiting on one lock into a few larger ones, and batches still proceed side by side.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from docintake.contracts.events import Event
from docintake.platform.group_commit import GroupCommit

T = TypeVar("T")


class PerBatchGrouping(Generic[T]):
    """Applies events through `apply_group`, which takes events of one batch and returns a result for each."""

    def __init__(self, apply_group: Callable[[Sequence[Event]], Awaitable[list[T]]]):
        self._groups: GroupCommit[Event, T] = GroupCommit(apply_group)

    async def apply(self, event: Event) -> T:
        """The event's result once the change that carried it is committed; raises what that change raised."""
        return await self._groups.apply(event, key=event.batch_id)
