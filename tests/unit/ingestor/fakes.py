"""Small fakes of the ingestor's ports; they fail as the real adapters do, with the project's errors."""

from pathlib import Path
from uuid import uuid4

from docintake.contracts.events import DocumentQueued, DocumentQueuedData
from docintake.ingestor.domain.document import ParsedDocument, Section
from docintake.ingestor.domain.versions import CurrentVersion, Figures, SourceWrite
from docintake.platform.errors import GraphUnavailable
from tests.support.events import document_ref

CONTENT = b"the uploaded bytes"
PARSED = ParsedDocument("markdown", (Section("Graphs link documents. " * 100, heading_path=("Graphs",)),), 1)


class FakeStorage:
    def __init__(self, failure: Exception | None = None):
        self.failure = failure
        self.downloads: list[str] = []

    async def download(self, key: str, path: Path) -> int:
        self.downloads.append(key)
        if self.failure:
            raise self.failure
        path.write_bytes(CONTENT)
        return len(CONTENT)


class FakeGraph:
    """Sources point at their current version, as in the knowledge graph; no content is shared or removed."""

    def __init__(self, failure: Exception | None = None):
        self.failure = failure
        self.cancelled: set[str] = set()
        self.written: list[tuple] = []
        self.sources: dict[tuple[str, str], CurrentVersion] = {}

    async def current_version(self, ref, tenant="default") -> CurrentVersion | None:
        if isinstance(self.failure, GraphUnavailable):  # a refusal is the write's
            raise self.failure
        return self.sources.get((ref.collection, ref.source_path))

    async def is_cancelled(self, batch_id: str) -> bool:
        return batch_id in self.cancelled

    async def mark_cancelled(self, batch_id: str) -> None:
        self.cancelled.add(batch_id)

    async def write_document(self, ref, batch_id, metadata, parsed, chunks, tenant="default") -> SourceWrite:
        if self.failure:
            raise self.failure
        self.written.append((ref.document_id, batch_id, metadata, parsed, chunks))
        old = self.sources.get((ref.collection, ref.source_path))
        if old is not None and old.sha256 == ref.sha256:
            return SourceWrite("unchanged")
        write = SourceWrite("added") if old is None else SourceWrite("replaced", old.sha256, True)
        figures = Figures(parsed.detected_type, parsed.pages, len(chunks), parsed.characters)
        self.sources[(ref.collection, ref.source_path)] = CurrentVersion(ref.sha256, str(ref.document_id), write,
                                                                         figures)
        return write


def parser(outcome: ParsedDocument | Exception = PARSED):
    async def parse(path: Path, filename_hint: str) -> ParsedDocument:
        assert path.read_bytes() == CONTENT
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return parse


def queued(attempt: int = 1, sha256: str | None = None, **metadata) -> DocumentQueued:
    batch_id = uuid4()
    ref = document_ref(batch_id, "notes.md", **(metadata or {"author": "Ada"}))
    if sha256 is not None:
        ref = ref.model_copy(update={"sha256": sha256})
    return DocumentQueued(
        batch_id=batch_id, document_id=ref.document_id, data=DocumentQueuedData(document=ref, attempt=attempt)
    )
