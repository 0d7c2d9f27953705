"""Commands of one batch one at a time within the process: a lock per batch id, kept only while in use."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID


@dataclass
class _InUse:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders_and_waiters: int = 0


class BatchLocks:
    def __init__(self) -> None:
        self._in_use: dict[UUID, _InUse] = {}

    @asynccontextmanager
    async def holding(self, batch_id: UUID) -> AsyncIterator[None]:
        in_use = self._in_use.setdefault(batch_id, _InUse())
        in_use.holders_and_waiters += 1
        try:
            async with in_use.lock:
                yield
        finally:
            in_use.holders_and_waiters -= 1
            if not in_use.holders_and_waiters:
                del self._in_use[batch_id]

    def __len__(self) -> int:
        """How many batches have a command under way or waiting."""
        return len(self._in_use)
