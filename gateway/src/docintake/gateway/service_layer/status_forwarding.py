"""Status requests are the status service's to answer; a batch it has not recorded yet is waited for.

A batch a gateway announced but the status service has not projected yet (it may be working
through a backlog of events) is waited for a while, then refused as BatchNotProjected. A batch
that was never announced (its upload did not end) is not found, whatever of it is stored.
"""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

from docintake.contracts.events import DEFAULT_TENANT
from docintake.gateway.domain.batch import announcement_key
from docintake.gateway.domain.refusals import BatchNotFound, BatchNotProjected
from docintake.gateway.service_layer.ports import Announcements, Upstream
from docintake.platform.tenants import ANONYMOUS, Principal

U = TypeVar("U", bound=Upstream)

PROJECTION_GRACE_SECONDS = 5.0
POLL_SECONDS = 0.2


async def answer_about_batch(ask: Callable[[], Awaitable[U]], batch_id: UUID, store: Announcements,
                             grace_seconds: float = PROJECTION_GRACE_SECONDS, caller: Principal = ANONYMOUS) -> U:
    """The status service's answer about a batch, once it knows the batch or the batch is known not to exist.
    Another tenant's batch is not found, however it is stored."""
    deadline = time.monotonic() + grace_seconds
    while True:
        upstream = await ask()
        if upstream.status_code != 404:
            return upstream
        await upstream.aclose()
        announced = await store.get_bytes(announcement_key(batch_id))
        marker = json.loads(announced) if announced is not None else None
        if marker is None or not caller.sees(marker.get("tenant", DEFAULT_TENANT)):
            raise BatchNotFound(batch_id)
        if time.monotonic() > deadline:
            raise BatchNotProjected(batch_id, marker["documents"])
        await asyncio.sleep(POLL_SECONDS)
