"""Reads of a batch shared by everyone who asks for it within a short time, so that many clients
polling one batch cost the store one read per interval, not one read per request."""

import asyncio
import time
from uuid import UUID

from docintake.status.domain import Batch
from docintake.status.repository import ProgressRepository

_KEEP_AT_MOST = 10_000  # remembered reads; past this, the expired ones are dropped


class SharedBatchReads:
    def __init__(self, repo: ProgressRepository, max_age_seconds: float):
        self.repo = repo
        self.max_age_seconds = max_age_seconds
        self._reads: dict[UUID, tuple[float, asyncio.Future[Batch | None]]] = {}

    async def get(self, batch_id: UUID) -> Batch | None:
        """The batch as read from the store at most max_age ago, or by a read under way; else read now.

        The Batch is shared: callers only read it.
        """
        now = time.monotonic()
        known = self._reads.get(batch_id)
        if known is not None and now - known[0] <= self.max_age_seconds:
            return await asyncio.shield(known[1])
        if len(self._reads) > _KEEP_AT_MOST:
            self._drop_expired(now)
        read = asyncio.ensure_future(self.repo.get(batch_id))
        self._reads[batch_id] = (now, read)
        try:
            return await asyncio.shield(read)
        except Exception:
            if self._reads.get(batch_id, (0.0, None))[1] is read:
                del self._reads[batch_id]  # a failed read is not handed to later askers
            raise

    def forget(self, batch_id: UUID) -> None:
        """The batch was just changed by a command here: whoever asks next reads it anew."""
        self._reads.pop(batch_id, None)

    def _drop_expired(self, now: float) -> None:
        for batch_id in [key for key, (at, _) in self._reads.items() if now - at > self.max_age_seconds]:
            del self._reads[batch_id]
