"""Status requests are the status service's to answer; a batch it has not recorded yet is waited for.

A batch this gateway has stored but the status service has not projected yet (it may be working
through a backlog of events) is waited for a while, then refused as BatchNotProjected.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

from docintake.gateway.domain.batch import batch_prefix
from docintake.gateway.domain.refusals import BatchNotFound, BatchNotProjected
from docintake.gateway.service_layer.ports import ObjectKeys, Upstream

U = TypeVar("U", bound=Upstream)

PROJECTION_GRACE_SECONDS = 5.0
POLL_SECONDS = 0.2


async def answer_about_batch(ask: Callable[[], Awaitable[U]], batch_id: UUID, store: ObjectKeys, max_files: int,
                             grace_seconds: float = PROJECTION_GRACE_SECONDS) -> U:
    """The status service's answer about a batch, once it knows the batch or the batch is known not to exist."""
    deadline = time.monotonic() + grace_seconds
    while True:
        upstream = await ask()
        if upstream.status_code != 404:
            return upstream
        await upstream.aclose()
        documents = batch_prefix(batch_id)
        if not await store.keys(documents, limit=1):
            raise BatchNotFound(batch_id)
        if time.monotonic() > deadline:
            raise BatchNotProjected(batch_id, len(await store.keys(documents, limit=max_files)))
        await asyncio.sleep(POLL_SECONDS)
