"""Delete the sources a DeletionRequested names: per source, its raw objects, then the source and its
version once nothing else has it (one transaction), then its DocumentRemoved.

The raw objects go first: a source whose removal broke off half way still names them, so the
redelivered deletion finds them again. A deletion whose batch (its deletion id) is cancelled stops
before the sources it has not reached.
"""

import asyncio
from collections.abc import Awaitable, Callable

from docintake.contracts.events import DeletionRequested, Event, SourceToRemove
from docintake.ingestor.domain.failures import (
    GRAPH_UNAVAILABLE,
    GRAPH_WRITE_FAILED,
    STORAGE_UNAVAILABLE,
    TransientFailure,
)
from docintake.ingestor.domain.removals import removal_failed, removed
from docintake.ingestor.service_layer.ports import Graph, Storage
from docintake.platform.errors import GraphRefused, GraphUnavailable, StorageUnavailable
from docintake.platform.logging import get_logger

log = get_logger(__name__)

Announce = Callable[[Event], Awaitable[None]]
# Sources removed at once within one deletion.
REMOVALS_AT_ONCE = 16


async def delete_sources(event: DeletionRequested, graph: Graph, storage: Storage, announce: Announce,
                         at_once: int = REMOVALS_AT_ONCE) -> int:
    """Removes each source and announces it; the number announced. Raises TransientFailure when a
    server could not be reached (what was announced stays announced; the rest is redone)."""
    gate = asyncio.Semaphore(at_once)
    announced = 0

    async def remove(source: SourceToRemove) -> None:
        nonlocal announced
        async with gate:
            if await graph.is_cancelled(str(event.batch_id)):
                return
            await announce(await _removal(event, source, graph, storage))
            announced += 1

    try:
        async with asyncio.TaskGroup() as group:
            for source in event.data.sources:
                group.create_task(remove(source))
    except ExceptionGroup as failures:
        raise _first_failure(failures) from None
    log.info("deletion done", sources=len(event.data.sources), announced=announced)
    return announced


def _first_failure(failures: ExceptionGroup[Exception]) -> Exception:
    first = failures.exceptions[0]
    while isinstance(first, ExceptionGroup):
        first = first.exceptions[0]
    if isinstance(first, GraphUnavailable):
        return TransientFailure(GRAPH_UNAVAILABLE, str(first))  # says it is Neo4j, and why
    if isinstance(first, StorageUnavailable):
        return TransientFailure(STORAGE_UNAVAILABLE, str(first))
    return first


async def _removal(event: DeletionRequested, source: SourceToRemove, graph: Graph, storage: Storage) -> Event:
    try:
        await storage.remove(await graph.source_objects(source.collection, source.source_path, event.tenant))
        removal = await graph.delete_source(source.collection, source.source_path, source.sha256, event.tenant)
    except GraphRefused as exc:
        log.exception("knowledge graph refused the removal", source_path=source.source_path)
        return removal_failed(event, source, GRAPH_WRITE_FAILED,
                              f"The knowledge graph refused the removal ({exc.code}): {exc.message}")
    return removed(event, source, removal)
