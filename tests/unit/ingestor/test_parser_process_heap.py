"""The heap of a parser process: its libraries frozen out of the cyclic collector from the start, and what each
parse leaves in reference cycles collected after it (python-docx's documents are such cycles, holding lxml trees
in native memory that the collector's thresholds never see)."""

import gc
import sys
import weakref
from pathlib import Path

import pytest

from docintake.ingestor.adapters.parser_pool import ParserPool
from docintake.ingestor.adapters.parsers.large import Spooling
from docintake.ingestor.adapters.parsers.ocr import OcrOptions
from docintake.ingestor.domain.document import ParsedDocument, Section


class Cycle:
    def __init__(self) -> None:
        self.itself = self


_left_in_cycles: list[weakref.ref] = []  # in the worker: what each earlier parse left behind


def leaves_a_cycle(path: Path, filename_hint: str, max_expanded_bytes: int, ocr: OcrOptions) -> ParsedDocument:
    """Tells how many cycles earlier parses left are still alive, and leaves one more. The collector's own
    thresholds are off, as they are in effect for a document whose memory is mostly native: only a collection the
    worker runs itself frees the cycles."""
    gc.disable()
    alive = sum(1 for left in _left_in_cycles if left() is not None)
    _left_in_cycles.append(weakref.ref(Cycle()))
    return ParsedDocument("text", (Section(str(alive)),), 1)


def parser_library_walked_by_the_collector(path: Path, filename_hint: str, max_expanded_bytes: int,
                                           ocr: OcrOptions) -> ParsedDocument:
    formats = sys.modules["docintake.ingestor.adapters.parsers.formats"]  # preloaded by the forkserver
    walked = any(tracked is formats.parse_file for tracked in gc.get_objects())  # frozen objects are not listed
    return ParsedDocument("text", (Section(f"{walked} {gc.get_freeze_count()}"),), 1)


@pytest.fixture
def document(tmp_path):
    path = tmp_path / "document.txt"
    path.write_text("x")
    return path


async def test_what_a_parse_leaves_in_reference_cycles_is_collected_before_the_next_document(document):
    pool = ParserPool(1, timeout_seconds=30, max_expanded_bytes=1 << 20, parse_function=leaves_a_cycle,
                      spooling=Spooling(threshold_bytes=1 << 20, record_bytes=1 << 16))
    try:
        alive = [(await pool.parse(document, "x.txt")).sections[0].text for _ in range(4)]
    finally:
        pool.close()
    assert alive == ["0", "0", "0", "0"]


async def test_a_parser_process_starts_with_its_libraries_frozen_out_of_the_collector(document):
    pool = ParserPool(1, timeout_seconds=30, max_expanded_bytes=1 << 20,
                      parse_function=parser_library_walked_by_the_collector)
    try:
        walked, frozen = (await pool.parse(document, "x.txt")).sections[0].text.split()
    finally:
        pool.close()
    assert walked == "False" and int(frozen) > 10_000
