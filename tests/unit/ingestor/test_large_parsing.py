"""Large documents in the parser process: the text formats read as a stream, section by section, and a document past
the large-document size chunked where it is parsed into a spool of bounded records."""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from docintake.ingestor.adapters.parser_pool import ParserPool
from docintake.ingestor.adapters.parsers import streamed
from docintake.ingestor.adapters.parsers.formats import parse_file
from docintake.ingestor.adapters.parsers.large import Spooling, parse_document
from docintake.ingestor.adapters.parsers.ocr import OcrOptions
from docintake.ingestor.adapters.parsers.text import decode_text
from docintake.ingestor.adapters.spool import SpoolReader
from docintake.ingestor.domain.chunking import chunk_sections
from docintake.ingestor.domain.document import ParsedDocument, Section


@pytest.fixture
def small_sections(monkeypatch):
    monkeypatch.setattr(streamed, "SECTION_CHARACTERS", 4096)


def spooled_rows(path: str) -> list[list[dict]]:
    reader = SpoolReader(Path(path))
    records = []
    while (record := reader.next_batch()) is not None:
        records.append(record)
    reader.close()
    return records


def test_a_streamed_csv_is_markdown_tables_each_under_the_header_with_every_row(tmp_path, small_sections):
    rows = [f"{i},name {i},{'x' * (i % 40)}" for i in range(3000)]
    path = tmp_path / "big.csv"
    path.write_text("id,name,notes\r\n" + "\r\n".join(rows) + "\r\n")
    sections = list(streamed.streamed_sections("csv", path))
    assert len(sections) > 10
    assert all(section.text.startswith("| id | name | notes |\n| --- | --- | --- |\n") for section in sections)
    assert all(len(section.text) < 2 * 4096 for section in sections)
    body = [line for section in sections for line in section.text.split("\n")[2:]]
    assert body == [f"| {i} | name {i} | {'x' * (i % 40)} |" for i in range(3000)]


def test_streamed_text_keeps_every_word_in_bounded_sections_cut_at_blank_lines(tmp_path, small_sections):
    paragraphs = [f"Paragraph {i}: " + "words of the text " * (i % 30) for i in range(2000)]
    path = tmp_path / "big.txt"
    path.write_bytes("\r\n\r\n".join(paragraphs).encode("utf-8"))
    sections = list(streamed.streamed_sections("text", path))
    assert len(sections) > 10 and all(len(section.text) <= 4096 for section in sections)
    assert [p.strip() for section in sections for p in section.text.split("\n\n")] == [p.strip() for p in paragraphs]


def test_streamed_text_in_a_legacy_encoding_is_decoded_as_a_whole_file_would_be(tmp_path, small_sections):
    text = "Café crème à la française, déjà vu. " * 400
    path = tmp_path / "latin.txt"
    path.write_bytes(text.encode("cp1252"))
    streamed_words = [word for s in streamed.streamed_sections("text", path) for word in s.text.split()]
    assert streamed_words == decode_text(path.read_bytes()).split() and len(streamed_words) == 7 * 400


def test_streamed_markdown_gives_the_heading_paths_a_whole_parse_gives(tmp_path, small_sections):
    parts = [f"# Part {p}\n\n" + "".join(f"## Section {p}.{s}\n\n" + "Text of the section. " * 30 + "\n\n"
                                           for s in range(20)) for p in range(5)]
    path = tmp_path / "big.md"
    path.write_text("".join(parts))
    whole = parse_file(path, "big.md")
    streamed_paths = [s.heading_path for s in streamed.streamed_sections("markdown", path)]
    assert sorted(set(streamed_paths)) == sorted({s.heading_path for s in whole.sections})


def test_a_large_document_is_chunked_into_a_spool_of_bounded_records_and_only_its_figures_come_back(tmp_path):
    paragraphs = [f"Paragraph {i} of the long text: " + "knowledge graphs link documents. " * 10 for i in range(3000)]
    path = tmp_path / "document"
    path.write_text("\n\n".join(paragraphs))
    spooling = Spooling(threshold_bytes=64 * 1024, record_bytes=100 * 1024, chunk_size=1000, chunk_overlap=150)
    parsed = parse_document(None, spooling, path, "long.txt", 1 << 30, OcrOptions())
    assert parsed.sections == () and parsed.spool is not None and parsed.detected_type == "text"
    records = spooled_rows(parsed.spool.path)
    assert len(records) > 5
    assert all(sum(len(row["text"].encode()) for row in record) <= 100 * 1024 for record in records)
    rows = [row for record in records for row in record]
    assert [row["index"] for row in rows] == list(range(parsed.spool.chunks))
    assert all(len(row["text"]) <= 1000 for row in rows)
    expected = chunk_sections(parse_file(path, "long.txt").sections, 1000, 150)
    assert len(rows) == pytest.approx(len(expected), rel=0.01)
    assert parsed.characters == pytest.approx(len(path.read_text()), rel=0.01)
    assert len(pickle.dumps(parsed)) < 1000


def test_a_document_under_the_size_comes_back_whole(tmp_path):
    path = tmp_path / "document"
    path.write_text("A short note.")
    parsed = parse_document(None, Spooling(1 << 20, 1 << 20), path, "note.txt", 1 << 30, OcrOptions())
    assert parsed.spool is None and parsed.sections[0].text == "A short note."


async def test_the_pool_hands_back_a_spool_for_a_large_file(tmp_path):
    path = tmp_path / "document"
    path.write_text("id,text\n" + "\n".join(f"{i},row {i} of the table" for i in range(20000)))
    pool = ParserPool(1, timeout_seconds=60, max_expanded_bytes=1 << 30,
                      spooling=Spooling(threshold_bytes=100 * 1024, record_bytes=64 * 1024))
    try:
        parsed = await pool.parse(path, "table.csv")
    finally:
        pool.close()
    assert parsed.detected_type == "csv" and parsed.spool is not None
    rows = [row for record in spooled_rows(parsed.spool.path) for row in record]
    assert len(rows) == parsed.spool.chunks and all(row["text"].startswith("| id | text |") for row in rows)


def test_the_main_process_imports_no_parser():
    code = ("import sys, docintake.ingestor.bootstrap; "
            "print(sorted(m for m in ('docintake.ingestor.adapters.parsers.formats', 'kreuzberg', 'pypdfium2', "
            "'docx', 'openpyxl', 'pptx', 'selectolax') if m in sys.modules))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "[]"


def test_the_parsers_import_kreuzberg_only_for_its_formats():
    code = "import sys, docintake.ingestor.adapters.parsers.formats; print('kreuzberg' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def process_id(path: Path, filename_hint: str, max_expanded_bytes: int, ocr: OcrOptions) -> ParsedDocument:
    return ParsedDocument("text", (Section(str(os.getpid())),), 1)


async def test_a_parser_process_is_replaced_after_its_documents(tmp_path):
    path = tmp_path / "document"
    path.write_text("x")
    pool = ParserPool(1, timeout_seconds=30, max_expanded_bytes=1 << 20, parse_function=process_id, max_documents=2)
    try:
        pids = [(await pool.parse(path, "x.txt")).sections[0].text for _ in range(4)]
    finally:
        pool.close()
    assert len(set(pids)) >= 2 and max(pids.count(pid) for pid in pids) <= 2  # the start-up task counts too
