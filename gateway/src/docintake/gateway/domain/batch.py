"""One batch upload: the documents it holds within its limits, its metadata mapping, and the events that announce it."""

import mimetypes
from dataclasses import dataclass, field
from urllib.parse import quote
from uuid import UUID, uuid4

from docintake.contracts.api import BatchAccepted
from docintake.contracts.events import (
    DEFAULT_TENANT,
    BatchCancelled,
    BatchCancelledData,
    BatchCreated,
    BatchCreatedData,
    DocumentQueued,
    DocumentQueuedData,
    DocumentRef,
    parse_event,
)
from docintake.contracts.mapping import Mapping, MappingError, mapping_key, parse_mapping
from docintake.gateway.domain.collections import valid_collection
from docintake.gateway.domain.limits import BatchLimits
from docintake.gateway.domain.refusals import BatchTooLarge, InvalidCollection, InvalidMetadataMapping, NoFiles

BATCHES = "batches/"
ANNOUNCED = "announced/"


def batch_prefix(batch_id: UUID) -> str:
    return f"{BATCHES}{batch_id}/"


def announcement_key(batch_id: UUID) -> str:
    """The object that says the batch's events went out: a batch without one was never accepted."""
    return f"{ANNOUNCED}{batch_id}"


def object_key(batch_id: UUID, document_id: UUID) -> str:
    return f"{batch_prefix(batch_id)}{document_id}"


def object_metadata(batch_id: UUID, filename: str, source_path: str) -> dict[str, str]:
    # Object metadata travels in HTTP headers, which carry ASCII only.
    return {"filename": quote(filename), "source-path": quote(source_path), "batch-id": str(batch_id)}


def content_type_of(declared: str, filename: str) -> str:
    """The declared content type, unless it says nothing; then the one the filename suggests."""
    media_type = declared.split(";")[0].strip().lower()
    if media_type and media_type != "application/octet-stream":
        return media_type
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


@dataclass(frozen=True)
class MappingSource:
    content: bytes
    content_type: str
    filename: str

    @property
    def name(self) -> str:
        """How refusals name the mapping: its filename, or the field it came in."""
        return f"The metadata mapping '{self.filename}'" if self.filename else "The metadata mapping"


@dataclass(frozen=True)
class Announcement:
    created: BatchCreated
    queued: list[DocumentQueued]
    warnings: list[str]


@dataclass(frozen=True)
class AcceptedBatch:
    batch_id: UUID
    documents: list[DocumentRef]
    warnings: list[str]

    @property
    def total_documents(self) -> int:
        return len(self.documents)

    @property
    def total_bytes(self) -> int:
        return sum(document.size for document in self.documents)

    def answer(self) -> BatchAccepted:
        return BatchAccepted(
            batch_id=self.batch_id,
            total_documents=self.total_documents,
            message=f"Batch accepted: {self.total_documents} documents queued for ingestion",
            warnings=self.warnings,
        )


@dataclass(frozen=True)
class Callback:
    """The URL an upload named to be told of its batch's completion; `documents`: of each document's outcome too."""

    url: str
    documents: bool = False


@dataclass
class Batch:
    """A batch while its parts stream in: files beyond the limit are counted, never kept."""

    limits: BatchLimits
    batch_id: UUID = field(default_factory=uuid4)
    documents: list[DocumentRef] = field(default_factory=list)
    file_count: int = 0
    mapping_source: MappingSource | None = None
    collection: str = field(default_factory=lambda: valid_collection(None))
    collection_named: bool = False
    # Whose batch it is: the tenant and the key of the upload, on every event it announces.
    tenant: str = DEFAULT_TENANT
    key_id: str | None = None
    callback: Callback | None = None

    def name_collection(self, name: str | None) -> None:
        """The collection every document of the batch belongs to; refuses a second, different name."""
        if not name:
            return
        named = valid_collection(name)
        if self.collection_named and named != self.collection:
            raise InvalidCollection(f"The collection is named twice, differently: '{self.collection}' and '{named}'")
        self.collection, self.collection_named = named, True

    def count_file(self) -> bool:
        """Count one more uploaded file; whether it is within the limit and so is to be kept."""
        self.file_count += 1
        return self.file_count <= self.limits.max_files

    def add(self, document: DocumentRef) -> None:
        self.documents.append(document)

    def mapping(self) -> Mapping:
        """The batch's metadata mapping, once the batch is known to be acceptable."""
        if self.file_count == 0:
            raise NoFiles()
        if self.file_count > self.limits.max_files:
            raise BatchTooLarge(self.limits.max_files, self.file_count)
        if self.mapping_source is None:
            return {}
        source = self.mapping_source
        try:
            return parse_mapping(source.content, source.content_type, source.filename)
        except MappingError as exc:
            raise InvalidMetadataMapping(f"{source.name}: {exc}") from None

    def announcement(self, mapping: Mapping) -> Announcement:
        documents = [
            document.model_copy(update={"metadata": mapping.get(mapping_key(document.filename), {}),
                                        "collection": self.collection})
            for document in self.documents
        ]
        uploaded = {mapping_key(document.filename) for document in documents}
        warnings = [
            f"Metadata mapping names '{name}', which is not in this batch; ignored"
            for name in mapping if name not in uploaded
        ]
        created = BatchCreated(batch_id=self.batch_id, tenant=self.tenant, key_id=self.key_id,
                               data=BatchCreatedData(
                                   documents=documents, warnings=warnings,
                                   callback_url=self.callback.url if self.callback else None,
                                   callback_documents=self.callback.documents if self.callback else False))
        self._readable_back(created)
        queued = [
            DocumentQueued(batch_id=self.batch_id, document_id=doc.document_id, tenant=self.tenant,
                           key_id=self.key_id, data=DocumentQueuedData(document=doc))
            for doc in documents
        ]
        return Announcement(created, queued, warnings)

    def _readable_back(self, created: BatchCreated) -> None:
        """Announce nothing a subscriber could not read back: metadata it cannot load is refused here."""
        try:
            parse_event(created.to_json())
        except (ValueError, RecursionError) as exc:
            name = self.mapping_source.name if self.mapping_source else "The metadata mapping"
            raise InvalidMetadataMapping(f"{name}: its metadata could not be read back ({type(exc).__name__})") \
                from None

    def withdrawal(self) -> BatchCancelled:
        return BatchCancelled(batch_id=self.batch_id, tenant=self.tenant, key_id=self.key_id,
                              data=BatchCancelledData(reason="upload failed; nothing was kept"))
