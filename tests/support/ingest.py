"""Put a document where the gateway would, queue it as the gateway would, and wait for its outcome."""

import hashlib
from uuid import UUID, uuid4

from docintake.contracts.events import DocumentQueued, DocumentQueuedData, DocumentRef
from docintake.platform.messaging import publish
from docintake.platform.storage import ObjectStore
from tests.support.broker import listen

OUTCOMES = ("docintake.document.ingested", "docintake.document.failed")


async def stage(store: ObjectStore, content: bytes, filename: str, batch_id: UUID | None = None,
                metadata: dict | None = None, content_type: str = "application/octet-stream",
                collection: str = "default", source_path: str = "") -> DocumentQueued:
    """A document uploaded as the source `source_path` (its filename when not given) of `collection`."""
    batch_id = batch_id or uuid4()
    document_id = uuid4()
    key = f"batches/{batch_id}/{document_id}"
    await store.put_bytes(key, content, content_type)
    ref = DocumentRef(
        document_id=document_id, filename=filename, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
        content_type=content_type, bucket=store.bucket, key=key, metadata=metadata or {},
        collection=collection, source_path=source_path,
    )
    return DocumentQueued(batch_id=batch_id, document_id=document_id, data=DocumentQueuedData(document=ref))


async def queue(broker, store, content: bytes, filename: str, **kwargs) -> DocumentQueued:
    event = await stage(store, content, filename, **kwargs)
    await publish(broker, event)
    return event


def outcomes_for(*events: DocumentQueued):
    wanted = {str(event.document_id) for event in events}
    return lambda received: [e for e in received if e["event_type"] in OUTCOMES and e["document_id"] in wanted]


async def outcome_of(settings, broker, store, content: bytes, filename: str, **kwargs) -> tuple[DocumentQueued, dict]:
    """Queue one document and wait for its one outcome event."""
    async with listen(settings.rabbitmq_url, "document.*") as listener:
        event = await queue(broker, store, content, filename, **kwargs)
        mine = outcomes_for(event)
        await listener.collect(mine)
    [outcome] = mine(listener.events)
    return event, outcome
