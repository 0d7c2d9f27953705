"""A batch's progress as Server-Sent Events: `progress` on every change, then `complete` at the end."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from docintake.contracts.api import TERMINAL_STATES, BatchStatus
from docintake.platform.errors import GraphUnavailable
from docintake.platform.logging import get_logger

log = get_logger(__name__)

KEEP_ALIVE_SECONDS = 15.0


def server_sent_event(name: str, rendered: bytes) -> str:
    return f"event: {name}\ndata: {rendered.decode()}\n\n"


async def progress_events(current_status: Callable[[], Awaitable[tuple[BatchStatus, bytes]]],
                          poll_seconds: float) -> AsyncIterator[str]:
    last_sent: dict[str, object] | None = None
    last_write = time.monotonic()
    while True:
        try:
            status, rendered = await current_status()
        except GraphUnavailable as exc:
            log.warning("progress store unavailable; stream keeps polling", error=repr(exc))
            await asyncio.sleep(poll_seconds)
            continue
        # The estimate moves with the clock alone; only a change of the record itself is news.
        snapshot = status.model_dump(exclude={"estimated_completion_time"})
        if snapshot != last_sent:
            last_sent, last_write = snapshot, time.monotonic()
            yield server_sent_event("progress", rendered)
        elif time.monotonic() - last_write >= KEEP_ALIVE_SECONDS:
            last_write = time.monotonic()
            yield ": keep-alive\n\n"
        if status.status in TERMINAL_STATES:
            yield server_sent_event("complete", rendered)
            return
        await asyncio.sleep(poll_seconds)
