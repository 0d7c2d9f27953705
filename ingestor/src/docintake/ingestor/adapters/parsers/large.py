"""What a parser process does with a document whose text passes the large-document size: chunks it where it is
parsed, into a spool file beside it (docintake.ingestor.adapters.spool), and hands back only the spool's name and
figures, so that neither process holds the document more than a section or a record at a time. The text formats
(streamed.STREAMED) of a file over that size are read as a stream; any other format is parsed whole first.

Imported by the ingestor's main process too, so it imports no parsing library itself: parse_file is imported in
the parser process that runs it."""

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from docintake.ingestor.adapters.parsers.heap import release_freed_memory
from docintake.ingestor.adapters.spool import write_spool
from docintake.ingestor.domain.chunking import iter_chunks
from docintake.ingestor.domain.document import ParsedDocument, Section, Spool
from docintake.ingestor.domain.failures import CORRUPT_FILE, NO_TEXT, IngestError

if TYPE_CHECKING:
    from docintake.ingestor.adapters.parsers.ocr import OcrOptions

ParseFunction = Callable[[Path, str, int, "OcrOptions"], ParsedDocument]


@dataclass(frozen=True)
class Spooling:
    """Documents whose text passes `threshold_bytes` (for the text formats: whose file does) are chunked by
    `chunk_size` and `chunk_overlap` into a spool of records of at most `record_bytes` of text."""

    threshold_bytes: int
    record_bytes: int
    chunk_size: int = 1000
    chunk_overlap: int = 150


def spool_path(path: Path) -> Path:
    return Path(f"{path}.chunks")


def parse_document(parse_function: ParseFunction | None, spooling: Spooling, path: Path, filename_hint: str,
                   max_expanded_bytes: int, ocr: "OcrOptions") -> ParsedDocument:
    """`parse_function` (formats.parse_file when None) for a document of ordinary size; a large one spooled. What
    the parse freed goes back to the system after it, so that a worker stays near the size of its libraries."""
    try:
        return _parse_document(parse_function, spooling, path, filename_hint, max_expanded_bytes, ocr)
    finally:
        release_freed_memory()


def _parse_document(parse_function: ParseFunction | None, spooling: Spooling, path: Path, filename_hint: str,
                    max_expanded_bytes: int, ocr: "OcrOptions") -> ParsedDocument:
    from docintake.ingestor.adapters.parsers.detect import detect_type
    from docintake.ingestor.adapters.parsers.streamed import STREAMED, streamed_sections

    path = Path(path)
    if path.stat().st_size > spooling.threshold_bytes:
        kind = detect_type(path, filename_hint, max_expanded_bytes)
        if kind in STREAMED:
            try:
                return _spooled(kind, streamed_sections(kind, path), None, spooling, path)
            except (IngestError, MemoryError):
                raise
            except Exception as exc:
                raise IngestError(CORRUPT_FILE, f"The {kind} file could not be read; it may be damaged") from exc
    parsed = (parse_function or parse_whole)(path, filename_hint, max_expanded_bytes, ocr)
    if parsed.characters <= spooling.threshold_bytes:
        return parsed
    return _spooled(parsed.detected_type, parsed.sections, parsed.pages, spooling, path)


def parse_whole(path: Path, filename_hint: str, max_expanded_bytes: int, ocr: "OcrOptions") -> ParsedDocument:
    """formats.parse_file, imported in the process that runs it."""
    from docintake.ingestor.adapters.parsers.formats import parse_file

    try:
        return parse_file(path, filename_hint, max_expanded_bytes, ocr)
    finally:
        release_freed_memory()


class _Tally:
    """Counts the sections, OCR'd pages and characters that pass through it."""

    def __init__(self) -> None:
        self.sections = self.ocr_pages = self.characters = 0

    def counting(self, sections: Iterable[Section]) -> Iterator[Section]:
        for section in sections:
            self.sections += 1
            self.ocr_pages += section.ocr
            self.characters += len(section.text)
            yield section


def _spooled(kind: str, sections: Iterable[Section], pages: int | None, spooling: Spooling,
             path: Path) -> ParsedDocument:
    from docintake.ingestor.adapters.parsers.formats import CHARACTERS_PER_PAGE

    tally = _Tally()
    target = spool_path(path)
    chunks = write_spool(target, iter_chunks(tally.counting(sections), spooling.chunk_size, spooling.chunk_overlap),
                         spooling.record_bytes)
    if not chunks:
        raise IngestError(NO_TEXT, "No extractable text: the file is blank")
    if pages is None:
        pages = math.ceil(tally.characters / CHARACTERS_PER_PAGE)
    return ParsedDocument(kind, (), pages, Spool(str(target), chunks, tally.characters, tally.sections,
                                                tally.ocr_pages))
