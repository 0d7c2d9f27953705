"""Events grouped per batch: a batch's events are applied one change at a time, and the events that arrive
while a change is under way go together in the next one.

Changes of one batch serialise on the batch anyway; grouping them turns a queue of small
transactions waiting on one lock into a few larger ones, and batches still proceed side by side.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar
from uuid import UUID

from docintake.contracts.events import Event
from docintake.platform.errors import GraphUnavailable

T = TypeVar("T")


class PerBatchGrouping(Generic[T]):
    """Applies events through `apply_group`, which takes events of one batch and returns a result for each."""

    def __init__(self, apply_group: Callable[[Sequence[Event]], Awaitable[list[T]]]):
        self._apply_group = apply_group
        self._waiting: dict[UUID, list[tuple[Event, asyncio.Future[T]]]] = {}
        self._draining: dict[UUID, asyncio.Task[None]] = {}

    async def apply(self, event: Event) -> T:
        """The event's result once the change that carried it is committed; raises what that change raised."""
        outcome: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(event.batch_id, []).append((event, outcome))
        if event.batch_id not in self._draining:
            self._draining[event.batch_id] = asyncio.create_task(self._drain(event.batch_id))
        return await outcome

    async def _drain(self, batch_id: UUID) -> None:
        try:
            while group := self._waiting.pop(batch_id, None):
                await self._apply(group)
        finally:
            del self._draining[batch_id]

    async def _apply(self, group: list[tuple[Event, asyncio.Future[T]]]) -> None:
        try:
            outcomes = await self._apply_group([event for event, _ in group])
        except Exception as exc:  # noqa: BLE001 - handed to every event's own handler
            if len(group) > 1 and not isinstance(exc, GraphUnavailable):
                # Only the event at fault should fail: apply the others on their own.
                for single in group:
                    await self._apply([single])
                return
            for _, outcome in group:
                if not outcome.done():
                    outcome.set_exception(exc)
            return
        for (_, outcome), result in zip(group, outcomes, strict=True):
            if not outcome.done():
                outcome.set_result(result)
