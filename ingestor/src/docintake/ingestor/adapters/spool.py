"""A large document's chunks in a file of the work directory, in records of a bounded size: written by the parser
process that cut them, read back by the graph writer one record (one transaction's worth) at a time."""

import pickle
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from docintake.ingestor.domain.document import Chunk

# A chunk as the graph writer sends it: index, text, page, heading and heading_path.
ChunkRow = dict[str, Any]


def chunk_row(chunk: Chunk) -> ChunkRow:
    return {"index": chunk.index, "text": chunk.text, "page": chunk.page, "heading": chunk.heading,
            "heading_path": list(chunk.heading_path)}


def batched(chunks: Iterable[Chunk], max_bytes: int) -> Iterator[list[ChunkRow]]:
    """The chunks as rows, in batches whose text takes at most `max_bytes` in UTF-8 (a longer chunk alone)."""
    batch: list[ChunkRow] = []
    size = 0
    for chunk in chunks:
        length = len(chunk.text.encode())
        if batch and size + length > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(chunk_row(chunk))
        size += length
    if batch:
        yield batch


def write_spool(path: Path, chunks: Iterable[Chunk], max_bytes: int) -> int:
    """The chunks written to `path` in records of at most `max_bytes` of text; returns how many there were."""
    count = 0
    with path.open("wb") as file:
        for batch in batched(chunks, max_bytes):
            pickle.dump(batch, file, protocol=pickle.HIGHEST_PROTOCOL)
            count += len(batch)
    return count


class SpoolReader:
    """The records of a spool file, read one at a time (the caller runs `next_batch` off its event loop)."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")

    def next_batch(self) -> list[ChunkRow] | None:
        try:
            batch: list[ChunkRow] = pickle.load(self._file)  # noqa: S301 - our own file, written by our parser process
        except EOFError:
            return None
        return batch

    def close(self) -> None:
        self._file.close()
