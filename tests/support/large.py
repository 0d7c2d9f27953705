"""Large documents generated while they are sent: a CSV and a plain text of any size, streamed into MinIO where the
gateway would put them (never held whole), queued as the gateway would queue them."""

from collections.abc import AsyncIterator
from uuid import UUID, uuid4

from docintake.contracts.events import DocumentQueued, DocumentQueuedData, DocumentRef
from docintake.platform.storage import ObjectStore

MB = 1000 * 1000
_BLOCK = 1 << 20


def csv_blocks(size: int, seed: str) -> AsyncIterator[bytes]:
    """A CSV of `size` bytes or a little more: a header row, then rows of an id, a name, a city and a note."""
    cities = ("Berlin", "Lisbon", "Osaka", "Lagos", "Quito", "Tallinn", "Perth", "Montreal")

    def rows(start: int) -> bytes:
        return "".join(f"{n},customer {n},{cities[n % 8]},ordered {n % 97} items of kind {n % 13} on day {n % 365}\n"
                       for n in range(start, start + 8000)).encode()

    async def blocks() -> AsyncIterator[bytes]:
        sent = 0
        head = f"id,name,city,note\n0,{seed},Berlin,the seed row\n".encode()
        yield head
        sent += len(head)
        start = 1
        while sent < size:
            block = rows(start)
            start += 8000
            sent += len(block)
            yield block

    return blocks()


def text_blocks(size: int, seed: str) -> AsyncIterator[bytes]:
    """Plain text of exactly `size` bytes: paragraphs of prose, each block numbered."""
    paragraph = ("Knowledge graphs link documents by author, department and tag; each chunk of a document is "
                 "linked to the next, and the search finds them by their words. ") * 4 + "\n\n"

    async def blocks() -> AsyncIterator[bytes]:
        sent = 0
        number = 0
        while sent < size:
            block = (f"Block {number} of {seed}.\n\n" + paragraph * (_BLOCK // len(paragraph))).encode()
            block = block[: size - sent]
            number += 1
            sent += len(block)
            yield block

    return blocks()


def sparse_text_blocks(size: int, seed: str) -> AsyncIterator[bytes]:
    """Plain text of exactly `size` bytes, each MiB a paragraph of prose and the rest blank lines: a file at the
    size limit that the parser reads whole while little of it is text for the graph."""

    async def blocks() -> AsyncIterator[bytes]:
        sent = 0
        number = 0
        while sent < size:
            text = f"Block {number} of {seed}: knowledge graphs link documents by author and tag.\n\n".encode()
            block = (text * 16).ljust(_BLOCK, b"\n")[: size - sent]
            number += 1
            sent += len(block)
            yield block

    return blocks()


async def staged(store: ObjectStore, blocks: AsyncIterator[bytes], filename: str,
                 collection: str = "default") -> DocumentQueued:
    """The generated document put into MinIO as the gateway would, hashed as it passes; its DocumentQueued."""
    batch_id: UUID = uuid4()
    document_id = uuid4()
    key = f"batches/{batch_id}/{document_id}"
    stored = await store.put_stream(key, blocks, content_type="application/octet-stream",
                                    metadata={"filename": filename}, max_bytes=1 << 40)
    ref = DocumentRef(document_id=document_id, filename=filename, size=stored.size, sha256=stored.sha256,
                      content_type="application/octet-stream", bucket=store.bucket, key=key, metadata={},
                      collection=collection, source_path=filename)
    return DocumentQueued(batch_id=batch_id, document_id=document_id, data=DocumentQueuedData(document=ref))
