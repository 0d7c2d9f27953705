"""Items handed in one at a time and applied in groups, one group of a key at a time: the first item of a
key is applied at once, and the items that arrive while its group is applied go together in the next
(at most max_size of them). A lone item waits for no one; a crowd shares one transaction.

A group that fails with anything but GraphUnavailable is applied again one item at a time, so that only the
item at fault fails; GraphUnavailable fails every item of the group, each to be retried by its own caller.
"""

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

from docintake.platform.errors import GraphUnavailable

I = TypeVar("I")  # noqa: E741 - an item
T = TypeVar("T")

class GroupCommit(Generic[I, T]):
    def __init__(self, apply_group: Callable[[Sequence[I]], Awaitable[list[T]]], max_size: int = 1_000_000):
        """`apply_group` takes items of one key and returns a result for each, in their order."""
        self._apply_group = apply_group
        self.max_size = max(1, max_size)
        self._waiting: dict[Hashable, list[tuple[I, asyncio.Future[T]]]] = {}
        self._draining: dict[Hashable, asyncio.Task[None]] = {}

    async def apply(self, item: I, key: Hashable = None) -> T:
        """The item's result once the group that carried it is committed; raises what that group raised."""
        outcome: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append((item, outcome))
        if key not in self._draining:
            self._draining[key] = asyncio.create_task(self._drain(key))
        return await outcome

    async def _drain(self, key: Hashable) -> None:
        try:
            while waiting := self._waiting.get(key):
                group, rest = waiting[:self.max_size], waiting[self.max_size:]
                if rest:
                    self._waiting[key] = rest
                else:
                    del self._waiting[key]
                await self._apply(group)
        finally:
            del self._draining[key]

    async def _apply(self, group: list[tuple[I, asyncio.Future[T]]]) -> None:
        try:
            results = await self._apply_group([item for item, _ in group])
        except Exception as exc:  # noqa: BLE001 - handed to every item's own caller
            if len(group) > 1 and not isinstance(exc, GraphUnavailable):
                for single in group:
                    await self._apply([single])
                return
            for _, outcome in group:
                if not outcome.done():
                    outcome.set_exception(exc)
            return
        for (_, outcome), result in zip(group, results, strict=True):
            if not outcome.done():
                outcome.set_result(result)
