"""Accept one batch: stream every file into storage, check the batch, publish its events.

Nothing is published and nothing stays in storage unless the whole batch is accepted.
"""

import json
from collections.abc import AsyncIterator
from uuid import uuid4

from docintake.contracts.events import DocumentRef
from docintake.gateway.domain.batch import (
    AcceptedBatch,
    Batch,
    Callback,
    MappingSource,
    announcement_key,
    content_type_of,
    object_key,
    object_metadata,
)
from docintake.gateway.domain.filenames import sanitize_filename
from docintake.gateway.domain.limits import BatchLimits
from docintake.gateway.domain.refusals import FileTooLarge, Refusal, UploadFailed
from docintake.gateway.domain.source_paths import normalized_source_path
from docintake.gateway.service_layer.ports import Part, Publish, UploadStore
from docintake.platform.errors import ObjectTooLarge
from docintake.platform.logging import get_logger
from docintake.platform.tenants import ANONYMOUS, Principal

log = get_logger(__name__)

MAX_COLLECTION_FIELD_BYTES = 1024


async def accept_batch(parts: AsyncIterator[Part], store: UploadStore, publish: Publish,
                       limits: BatchLimits, collection: str | None = None,
                       caller: Principal = ANONYMOUS, callback: Callback | None = None) -> AcceptedBatch:
    """`collection` is the one the query names, if any; a form field `collection` may name it too.
    The batch is the caller's tenant's; `callback` (checked before) is told of its completion."""
    batch = Batch(limits, tenant=caller.tenant, key_id=caller.key_id, callback=callback)
    announced = False
    try:
        batch.name_collection(collection)
        await _take(parts, batch, store)
        announcement = batch.announcement(batch.mapping())
        announced = True
        await publish([announcement.created])  # subscribers see the whole batch before its documents
        await publish(list(announcement.queued))
    except Refusal:
        await _discard(batch, store)
        raise
    except Exception as exc:
        log.warning("batch not accepted", batch_id=str(batch.batch_id), error=repr(exc))
        await _discard(batch, store)
        if announced:  # BatchCreated may have gone out, so subscribers must hear that the batch is off
            await _withdraw(batch, publish)
        raise UploadFailed() from None
    await _mark_announced(batch, store)
    log.info("batch accepted", batch_id=str(batch.batch_id), documents=len(batch.documents),
             tenant=batch.tenant, key_id=batch.key_id, collection=batch.collection)
    return AcceptedBatch(batch.batch_id, announcement.created.data.documents, announcement.warnings)


async def _take(parts: AsyncIterator[Part], batch: Batch, store: UploadStore) -> None:
    async for part in parts:
        if part.name == "files" and part.filename:
            if batch.count_file():
                batch.add(await _store_file(part, batch, store))
            else:
                await part.discard()
        elif part.name == "collection":
            batch.name_collection((await part.read(MAX_COLLECTION_FIELD_BYTES)).decode("utf-8", "replace").strip())
        elif part.name == "metadata_mapping":
            content = await part.read(batch.limits.max_mapping_bytes)
            if content.strip():
                batch.mapping_source = MappingSource(content, part.content_type, part.filename or "")


async def _store_file(part: Part, batch: Batch, store: UploadStore) -> DocumentRef:
    document_id = uuid4()
    filename = sanitize_filename(part.filename)
    source_path = normalized_source_path(part.filename, filename)
    content_type = content_type_of(part.content_type, filename)
    key = object_key(batch.batch_id, document_id)
    try:
        stored = await store.put_stream(key, part.chunks(), content_type=content_type,
                                        metadata=object_metadata(batch.batch_id, filename, source_path),
                                        max_bytes=batch.limits.max_file_bytes)
    except ObjectTooLarge:
        raise FileTooLarge(filename, batch.limits.max_file_bytes) from None
    return DocumentRef(document_id=document_id, filename=filename, size=stored.size, sha256=stored.sha256,
                       content_type=content_type, bucket=store.bucket, key=key, source_path=source_path)


async def _discard(batch: Batch, store: UploadStore) -> None:
    """Remove what was stored; if storage is what failed, say what was left rather than fail again."""
    keys = [document.key for document in batch.documents]
    try:
        await store.remove(keys)
    except Exception as exc:  # noqa: BLE001 - the caller is already answering for the first failure
        log.error("objects of the refused batch could not be removed", batch_id=str(batch.batch_id),
                  keys=keys, error=repr(exc))


async def _mark_announced(batch: Batch, store: UploadStore) -> None:
    """Keep that the batch was announced; without it the batch's status reads as unknown until the
    status service has its events, and the reaper takes its objects once they are old."""
    try:
        marker = json.dumps({"documents": len(batch.documents), "tenant": batch.tenant}).encode()
        await store.put_bytes(announcement_key(batch.batch_id), marker)
    except Exception as exc:  # noqa: BLE001 - the batch is accepted: its events went out
        log.warning("could not keep that the batch was announced", batch_id=str(batch.batch_id), error=repr(exc))


async def _withdraw(batch: Batch, publish: Publish) -> None:
    """Tell subscribers that may have seen part of a failed batch that it will not go on (best effort)."""
    try:
        await publish([batch.withdrawal()])
    except Exception:
        log.warning("could not withdraw the failed batch; the status service's stall timeout will end it",
                    batch_id=str(batch.batch_id))
