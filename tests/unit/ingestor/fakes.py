"""Small fakes of the ingestor's ports; they fail as the real adapters do, with the project's errors."""

from pathlib import Path
from uuid import uuid4

from docintake.contracts.events import DocumentQueued, DocumentQueuedData
from docintake.ingestor.domain.document import ParsedDocument, Section
from tests.support.events import document_ref

CONTENT = b"the uploaded bytes"
PARSED = ParsedDocument("markdown", (Section("Graphs link documents. " * 100, heading="Graphs"),), 1)


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
    def __init__(self, failure: Exception | None = None):
        self.failure = failure
        self.cancelled: set[str] = set()
        self.written: list[tuple] = []

    async def is_cancelled(self, batch_id: str) -> bool:
        return batch_id in self.cancelled

    async def mark_cancelled(self, batch_id: str) -> None:
        self.cancelled.add(batch_id)

    async def write_document(self, ref, batch_id, metadata, parsed, chunks) -> None:
        if self.failure:
            raise self.failure
        self.written.append((ref.document_id, batch_id, metadata, parsed, chunks))


def parser(outcome: ParsedDocument | Exception = PARSED):
    async def parse(path: Path, filename_hint: str) -> ParsedDocument:
        assert path.read_bytes() == CONTENT
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return parse


def queued(attempt: int = 1, **metadata) -> DocumentQueued:
    batch_id = uuid4()
    ref = document_ref(batch_id, "notes.md", **(metadata or {"author": "Ada"}))
    return DocumentQueued(
        batch_id=batch_id, document_id=ref.document_id, data=DocumentQueuedData(document=ref, attempt=attempt)
    )
