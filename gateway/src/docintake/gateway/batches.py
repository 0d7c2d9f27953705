"""Accept one batch: stream every file into MinIO, check the request, publish its events.

Nothing is published and nothing stays in MinIO unless the whole batch is accepted.
"""

import mimetypes
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote
from uuid import UUID, uuid4

from docintake.contracts.api import BatchAccepted
from docintake.contracts.events import (
    BatchCancelled,
    BatchCancelledData,
    BatchCreated,
    BatchCreatedData,
    DocumentQueued,
    DocumentQueuedData,
    DocumentRef,
    Event,
)
from docintake.contracts.mapping import Mapping, MappingError, mapping_key, parse_mapping
from docintake.gateway import metrics
from docintake.gateway.filenames import sanitize_filename
from docintake.gateway.multipart import MalformedMultipart, Part
from docintake.gateway.settings import GatewaySettings
from docintake.platform.logging import get_logger
from docintake.platform.storage import ObjectStore, ObjectTooLarge
from docintake.platform.web import ApiError

log = get_logger(__name__)

Publish = Callable[[list[Event]], Awaitable[None]]


def object_key(batch_id: UUID, document_id: UUID) -> str:
    return f"batches/{batch_id}/{document_id}"


def content_type_of(part: Part, filename: str) -> str:
    declared = part.content_type.split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


class BatchUpload:
    """The state of one upload while its parts stream in."""

    def __init__(self, store: ObjectStore, settings: GatewaySettings):
        self.store = store
        self.settings = settings
        self.batch_id = uuid4()
        self.documents: list[DocumentRef] = []
        self.file_count = 0
        self.mapping_part: tuple[bytes, str, str] | None = None

    async def take(self, parts: AsyncIterator[Part]) -> None:
        async for part in parts:
            if part.name == "files" and part.filename:
                await self._take_file(part)
            elif part.name == "metadata_mapping":
                content = await part.read(self.settings.max_mapping_bytes)
                if content.strip():
                    self.mapping_part = (content, part.content_type, part.filename or "")

    async def _take_file(self, part: Part) -> None:
        self.file_count += 1
        if self.file_count > self.settings.max_files:
            await part.discard()  # counted, never stored
            return
        document_id = uuid4()
        filename = sanitize_filename(part.filename)
        content_type = content_type_of(part, filename)
        key = object_key(self.batch_id, document_id)
        try:
            stored = await self.store.put_stream(
                key,
                part.chunks(),
                content_type=content_type,
                # Object metadata travels in HTTP headers, which carry ASCII only.
                metadata={"filename": quote(filename), "batch-id": str(self.batch_id)},
                max_bytes=self.settings.max_file_bytes,
            )
        except ObjectTooLarge:
            raise ApiError(
                413, "FILE_TOO_LARGE",
                f"File '{filename}' exceeds the maximum size of {self.settings.max_file_bytes} bytes",
            ) from None
        self.documents.append(
            DocumentRef(
                document_id=document_id, filename=filename, size=stored.size, sha256=stored.sha256,
                content_type=content_type, bucket=self.store.bucket, key=key,
            )
        )

    def check(self) -> Mapping:
        if self.file_count == 0:
            raise ApiError(400, "NO_FILES", "No files were uploaded; send them in the multipart field 'files'")
        if self.file_count > self.settings.max_files:
            raise ApiError(
                400, "BATCH_TOO_LARGE",
                f"Batch exceeds maximum size of {self.settings.max_files} files. Uploaded: {self.file_count} files",
            )
        if self.mapping_part is None:
            return {}
        try:
            return parse_mapping(*self.mapping_part)
        except MappingError as exc:
            raise ApiError(400, "INVALID_METADATA_MAPPING", str(exc)) from None

    def events(self, mapping: Mapping) -> tuple[list[Event], list[str]]:
        documents = [
            document.model_copy(update={"metadata": mapping.get(mapping_key(document.filename), {})})
            for document in self.documents
        ]
        uploaded = {mapping_key(document.filename) for document in documents}
        warnings = [
            f"Metadata mapping names '{name}', which is not in this batch; ignored"
            for name in mapping if name not in uploaded
        ]
        created = BatchCreated(batch_id=self.batch_id, data=BatchCreatedData(documents=documents, warnings=warnings))
        queued = [
            DocumentQueued(batch_id=self.batch_id, document_id=doc.document_id, data=DocumentQueuedData(document=doc))
            for doc in documents
        ]
        return [created, *queued], warnings

    async def discard(self) -> None:
        """Remove what was stored; if storage is what failed, say what was left rather than fail again."""
        keys = [document.key for document in self.documents]
        try:
            await self.store.remove(keys)
        except Exception as exc:  # noqa: BLE001 - the caller is already answering for the first failure
            log.error("objects of the refused batch could not be removed", batch_id=str(self.batch_id),
                      keys=keys, error=repr(exc))


async def accept_batch(
    parts: AsyncIterator[Part], store: ObjectStore, publish: Publish, settings: GatewaySettings
) -> BatchAccepted:
    upload = BatchUpload(store, settings)
    announced = False
    try:
        await upload.take(parts)
        mapping = upload.check()
        (created, *queued), warnings = upload.events(mapping)
        announced = True
        await publish([created])  # subscribers see the whole batch before its documents
        await publish(queued)
    except MalformedMultipart as exc:
        await upload.discard()
        raise ApiError(400, "INVALID_MULTIPART", str(exc)) from None
    except ApiError:
        await upload.discard()
        raise
    except Exception as exc:
        log.warning("batch not accepted", batch_id=str(upload.batch_id), error=repr(exc))
        await upload.discard()
        if announced:  # BatchCreated may have gone out, so subscribers must hear that the batch is off
            await _withdraw(upload.batch_id, publish)
        raise ApiError(503, "SERVICE_UNAVAILABLE", "Storage or message broker unavailable; nothing was kept, retry later",
                       {"Retry-After": "10"}) from None
    log.info("batch accepted", batch_id=str(upload.batch_id), documents=len(upload.documents))
    metrics.BYTES.inc(sum(document.size for document in upload.documents))
    return BatchAccepted(
        batch_id=upload.batch_id,
        total_documents=len(upload.documents),
        message=f"Batch accepted: {len(upload.documents)} documents queued for ingestion",
        warnings=warnings,
    )


async def _withdraw(batch_id: UUID, publish: Publish) -> None:
    """Tell subscribers that may have seen part of a failed batch that it will not go on (best effort)."""
    try:
        await publish([BatchCancelled(batch_id=batch_id, data=BatchCancelledData(reason="upload failed; nothing was kept"))])
    except Exception:
        log.warning("could not withdraw the failed batch; the status service's stall timeout will end it",
                    batch_id=str(batch_id))
