"""What the use cases need from the outside world, and the bundle of it they are handed.

The bootstrap supplies the real adapters, the unit tests small fakes. Every port raises only
the project's errors (docintake.platform.errors) or IngestError, never a client library's.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from opentelemetry.trace import NoOpTracer, Tracer

from docintake.contracts.events import DocumentRef, Event
from docintake.contracts.metadata import DocumentMetadata
from docintake.ingestor.domain.document import Chunk, ParsedDocument, Spool
from docintake.ingestor.domain.removals import SourceRemoval
from docintake.ingestor.domain.versions import CurrentVersion, SourceWrite


class Storage(Protocol):
    async def download(self, key: str, path: Path) -> int:
        """Raises ObjectMissing, or StorageUnavailable when storage cannot be reached."""
        ...

    async def remove(self, keys: list[str]) -> None:
        """Deletes the objects; one already gone is no error. Raises StorageUnavailable."""
        ...


class Graph(Protocol):
    """Raises GraphUnavailable when the graph cannot be reached, GraphRefused when it refuses for good."""

    async def current_version(self, ref: DocumentRef, tenant: str = ...) -> CurrentVersion | None:
        """The version the source of `ref` has now in the tenant's collection; None for a source it does not have."""
        ...

    async def write_document(
        self, ref: DocumentRef, batch_id: str, metadata: DocumentMetadata, parsed: ParsedDocument,
        chunks: Sequence[Chunk] | Spool, tenant: str = ...,
    ) -> SourceWrite:
        """Writes the content, the tenant's, and makes it its source's current version, in one transaction; a large
        one (a spool) in bounded transactions, made current in one, never visible half-written."""
        ...

    async def source_objects(self, collection: str, path: str, tenant: str = ...) -> list[str]:
        """The keys of the raw objects of the versions the source was written with; none for no such source."""
        ...

    async def delete_source(self, collection: str, path: str, sha256: str, tenant: str = ...) -> SourceRemoval:
        """Removes the source and, if no other source has it, its version (chunks, metadata nodes nothing
        else links), in one transaction; `sha256`: the content to report on when the source is gone already."""
        ...

    async def is_cancelled(self, batch_id: str) -> bool: ...

    async def mark_cancelled(self, batch_id: str) -> None: ...


# Reads the file at the path (the second argument is the uploaded filename); raises IngestError, NeedsOcr
# for a file with pages that need OCR (the text pass never OCRs).
Parse = Callable[[Path, str], Awaitable[ParsedDocument]]
# Told the pages OCR'd so far and the pages to OCR.
Progress = Callable[[int, int], Awaitable[None]]
# Reads the file as Parse does, OCR'ing what needs it, telling Progress how far it got.
OcrParse = Callable[[Path, str, Progress], Awaitable[ParsedDocument]]
# Publishes an event, confirmed.
Announce = Callable[[Event], Awaitable[None]]


@dataclass
class Dependencies:
    storage: Storage
    graph: Graph
    parse: Parse
    work_dir: Path
    chunk_size: int = 1000
    chunk_overlap: int = 150
    required_metadata: tuple[str, ...] = ()
    # Opens the fetch, parse and write spans (docintake.platform.tracing); the API's no-op one when tracing is off.
    tracer: Tracer = field(default_factory=NoOpTracer)
    # The OCR pass, on an ingestor with OCR workers; and where its progress is published.
    ocr_parse: OcrParse | None = None
    announce: Announce | None = None
