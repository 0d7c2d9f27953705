"""Reads shared by everyone who asks the same within a short time, so that many clients polling
one batch cost the store (and the rendering) once per interval, not once per request."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

_KEEP_AT_MOST = 10_000  # remembered reads; past this, the expired ones are dropped


class CoalescedReads:
    def __init__(self, max_age_seconds: float):
        self.max_age_seconds = max_age_seconds
        self._reads: dict[Hashable, tuple[float, asyncio.Future[Any]]] = {}

    async def get(self, key: Hashable, read: Callable[[], Awaitable[Any]]) -> Any:
        """What a read of `key` started at most max_age ago returned, or one under way; else read now.

        Callers share the result, so they only read it.
        """
        now = time.monotonic()
        known = self._reads.get(key)
        if known is not None and now - known[0] <= self.max_age_seconds:
            return await asyncio.shield(known[1])
        if len(self._reads) > _KEEP_AT_MOST:
            self._drop_expired(now)
        pending = asyncio.ensure_future(read())
        self._reads[key] = (now, pending)
        try:
            return await asyncio.shield(pending)
        except Exception:
            if self._reads.get(key, (0.0, None))[1] is pending:
                del self._reads[key]  # a failed read is not handed to later askers
            raise

    def forget(self, *keys: Hashable) -> None:
        """What was read is out of date (a command here changed it): whoever asks next reads anew."""
        for key in keys:
            self._reads.pop(key, None)

    def _drop_expired(self, now: float) -> None:
        for key in [key for key, (at, _) in self._reads.items() if now - at > self.max_age_seconds]:
            del self._reads[key]
