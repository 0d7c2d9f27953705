"""Ingest one queued document: validate, fetch, parse, chunk, write, and say how it went.

The handler takes its dependencies as arguments; the FastStream entrypoint supplies the real
ones and the unit tests small fakes.
"""

import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar
from uuid import UUID, uuid5

from minio.error import S3Error
from neo4j.exceptions import Neo4jError
from urllib3.exceptions import HTTPError as Urllib3Error

from docintake.contracts.events import (
    DocumentFailed,
    DocumentFailedData,
    DocumentIngested,
    DocumentIngestedData,
    DocumentQueued,
    DocumentRef,
    Event,
    Timings,
)
from docintake.contracts.metadata import DocumentMetadata, MetadataError
from docintake.ingestor.parsing.chunking import Chunk, chunk_sections
from docintake.ingestor.parsing.errors import IngestError
from docintake.ingestor.parsing.model import ParsedDocument
from docintake.platform.graphdb import is_transient
from docintake.platform.logging import get_logger
from docintake.platform.storage import ObjectMissing

log = get_logger(__name__)

METADATA_INVALID = "METADATA_INVALID"
OBJECT_MISSING = "OBJECT_MISSING"
STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"
GRAPH_UNAVAILABLE = "GRAPH_UNAVAILABLE"
BROKER_UNAVAILABLE = "BROKER_UNAVAILABLE"
GRAPH_WRITE_FAILED = "GRAPH_WRITE_FAILED"
INTERNAL_ERROR = "INTERNAL_ERROR"


class TransientFailure(Exception):
    """Worth another try later: a server was unreachable. `code` says which."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class Storage(Protocol):
    async def download(self, key: str, path: Path) -> int: ...


class Graph(Protocol):
    async def write_document(
        self, ref: DocumentRef, batch_id: str, metadata: DocumentMetadata, parsed: ParsedDocument, chunks: list[Chunk]
    ) -> None: ...

    async def is_cancelled(self, batch_id: str) -> bool: ...


@dataclass
class Dependencies:
    storage: Storage
    graph: Graph
    parse: Callable[[Path, str], Awaitable[ParsedDocument]]
    work_dir: Path
    chunk_size: int = 1000
    chunk_overlap: int = 150
    required_metadata: tuple[str, ...] = ()


def outcome_id(event: DocumentQueued) -> UUID:
    """The event id of this attempt's outcome, the same on every delivery of it.

    One outcome per document and attempt: when a redelivered document is ingested again,
    consumers drop the second outcome as a duplicate and the first one counts.
    """
    return uuid5(event.document_id, f"outcome.{event.data.attempt}")


def failed(event: DocumentQueued, code: str, message: str, *, retryable: bool = False, attempts: int = 1) -> DocumentFailed:
    return DocumentFailed(
        event_id=outcome_id(event),
        batch_id=event.batch_id,
        document_id=event.document_id,
        data=DocumentFailedData(
            filename=event.data.document.filename, error_code=code, message=message,
            retryable=retryable, attempts=attempts, attempt=event.data.attempt,
        ),
    )


class Stopwatch:
    def __init__(self) -> None:
        self.started = self.lap_started = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        elapsed, self.lap_started = (now - self.lap_started) * 1000, now
        return elapsed

    def total(self) -> float:
        return (time.perf_counter() - self.started) * 1000


async def ingest_document(event: DocumentQueued, deps: Dependencies) -> Event | None:
    """DocumentIngested or DocumentFailed for this document; None when its batch was cancelled.

    Raises TransientFailure when a server could not be reached, so the caller can retry; anything
    else that goes wrong fails the document at once, so its batch does not wait for it.
    """
    try:
        return await _ingest(event, deps)
    except TransientFailure:
        raise
    except Exception as exc:
        log.exception("unexpected error; document failed")
        return failed(
            event, INTERNAL_ERROR,
            f"The ingestor hit an unexpected error ({type(exc).__name__}: {exc}); its log has the details",
        )


async def _ingest(event: DocumentQueued, deps: Dependencies) -> Event | None:
    ref = event.data.document
    if await _cancelled(event, deps.graph):
        return None
    try:
        metadata = DocumentMetadata.validate_raw(ref.metadata, deps.required_metadata)
    except MetadataError as exc:
        return failed(event, METADATA_INVALID, str(exc))

    clock = Stopwatch()
    deps.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=deps.work_dir) as scratch:
        path = Path(scratch) / "document"
        try:
            await deps.storage.download(ref.key, path)
        except ObjectMissing:
            return failed(event, OBJECT_MISSING, "The uploaded file is no longer in storage; upload it again")
        except (S3Error, Urllib3Error, OSError) as exc:
            raise TransientFailure(STORAGE_UNAVAILABLE, f"Object storage unavailable: {exc}") from exc
        fetch_ms = clock.lap()
        try:
            parsed = await deps.parse(path, ref.filename)
        except IngestError as exc:
            return failed(event, exc.code, exc.message, retryable=exc.retryable)
    parse_ms = clock.lap()

    chunks = chunk_sections(parsed.sections, deps.chunk_size, deps.chunk_overlap)
    if await _cancelled(event, deps.graph):  # while it waited for a parser, which can take minutes
        return None
    try:
        await _graph_call(deps.graph.write_document(ref, str(event.batch_id), metadata, parsed, chunks))
    except Neo4jError as exc:
        log.exception("knowledge graph refused the document")
        return failed(
            event, GRAPH_WRITE_FAILED, f"The knowledge graph refused the document ({exc.code}): {exc.message}"
        )
    timings = Timings(fetch_ms=fetch_ms, parse_ms=parse_ms, write_ms=clock.lap(), total_ms=clock.total())
    log.info("document ingested", pages=parsed.pages, chunks=len(chunks), total_ms=round(timings.total_ms, 1))
    return DocumentIngested(
        event_id=outcome_id(event),
        batch_id=event.batch_id,
        document_id=event.document_id,
        data=DocumentIngestedData(
            filename=ref.filename, sha256=ref.sha256, detected_type=parsed.detected_type,
            pages=parsed.pages, chunks=len(chunks), characters=parsed.characters,
            timings=timings, attempt=event.data.attempt,
        ),
    )


async def _cancelled(event: DocumentQueued, graph: Graph) -> bool:
    if await _graph_call(graph.is_cancelled(str(event.batch_id))):
        log.info("batch cancelled; document skipped")
        return True
    return False


T = TypeVar("T")


async def _graph_call(call: Awaitable[T]) -> T:
    try:
        return await call
    except Exception as exc:
        if is_transient(exc):
            raise TransientFailure(GRAPH_UNAVAILABLE, f"Knowledge graph unavailable: {exc}") from exc
        raise

