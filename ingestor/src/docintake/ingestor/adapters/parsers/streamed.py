"""The text formats read as a stream, section by section, for files too large to hold whole in memory more than
once: plain text and JSON (as their text), Markdown (cut at its headings), CSV and TSV (Markdown tables of rows
under the header row). A section holds at most SECTION_CHARACTERS; every section is tidied as `_read` tidies."""

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from docintake.ingestor.adapters.parsers.sections import markdown_section_stream
from docintake.ingestor.adapters.parsers.tables import markdown_table
from docintake.ingestor.adapters.parsers.text import bom_encoding, bomless_utf16, guessed_encoding, tidy
from docintake.ingestor.domain.document import Section

SECTION_CHARACTERS = 1 << 20
_BLOCK = 1 << 20
_SAMPLE = 1 << 20
_SNIFF_SAMPLE = 4096


def encoding_of(path: Path) -> str:
    """As decode_text judges it: a BOM, UTF-16 without one, UTF-8 if every byte agrees, else a guess from a sample."""
    with path.open("rb") as file:
        head = file.read(_SAMPLE)
        if found := bom_encoding(head) or bomless_utf16(head[:4096]):
            return found
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            block = head
            while block:
                decoder.decode(block)
                block = file.read(_BLOCK)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            return guessed_encoding(head)


def text_blocks(path: Path) -> Iterator[str]:
    """The file's text a block at a time, Unix newlines (a CR at the end of a block waits for the next)."""
    decoder = codecs.getincrementaldecoder(encoding_of(path))(errors="replace")
    held = ""
    with path.open("rb") as file:
        while raw := file.read(_BLOCK):
            text = held + decoder.decode(raw)
            held = "\r" if text.endswith("\r") else ""
            yield _unix_newlines(text[:-1] if held else text)
    if rest := held + decoder.decode(b"", final=True):
        yield _unix_newlines(rest)


def _unix_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def lines(path: Path) -> Iterator[str]:
    """The file's lines, each with its newline (the last one without, if the file ends without)."""
    partial = ""
    for block in text_blocks(path):
        pieces = (partial + block).split("\n")
        partial = pieces.pop()
        for piece in pieces:
            yield piece + "\n"
    if partial:
        yield partial


def text_sections(path: Path) -> Iterator[Section]:
    """Plain text in sections of about SECTION_CHARACTERS, each ended at a blank line, else at a line, where it can."""
    pending = ""
    for block in text_blocks(path):
        pending += block
        while len(pending) >= SECTION_CHARACTERS:
            cut = _cut(pending, SECTION_CHARACTERS)
            yield Section(pending[:cut])
            pending = pending[cut:]
    if pending:
        yield Section(pending)


def _cut(text: str, size: int) -> int:
    for boundary in ("\n\n", "\n", " "):
        found = text.rfind(boundary, size // 2, size)
        if found >= 0:
            return found + len(boundary)
    return size


def markdown_sections(path: Path) -> Iterator[Section]:
    return markdown_section_stream((line.removesuffix("\n") for line in lines(path)), SECTION_CHARACTERS)


def delimited_sections(path: Path, delimiter: str | None) -> Iterator[Section]:
    """The rows as Markdown tables of about SECTION_CHARACTERS each, every one under the header row (or under
    `Column N` headers where the sniffer sees none), each as wide as its widest row."""
    rows = lines(path)
    sample_lines: list[str] = []
    for line in rows:
        sample_lines.append(line)
        if sum(map(len, sample_lines)) >= _SNIFF_SAMPLE:
            break
    sample = "".join(sample_lines[:-1] if len(sample_lines) > 1 else sample_lines)
    dialect = csv.excel_tab if delimiter == "\t" else csv.Sniffer().sniff(sample, delimiters=",;\t|")
    reader = csv.reader(_chained(sample_lines, rows), dialect)
    header: list[str] | None = None
    if _has_header(sample):
        header = next(reader, None)
    table: list[list[str]] = []
    characters = 0
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        table.append(row)
        characters += sum(map(len, row)) + 3 * len(row)
        if characters >= SECTION_CHARACTERS:
            yield Section(_table(table, header))
            table, characters = [], 0
    if table:
        yield Section(_table(table, header))


def _chained(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from first
    yield from rest


def _table(rows: list[list[str]], header: list[str] | None) -> str:
    if header is None:
        width = max(len(row) for row in rows)
        header = [f"Column {number}" for number in range(1, width + 1)]
    return markdown_table(rows, header)


def _has_header(sample: str) -> bool:
    try:
        return csv.Sniffer().has_header(sample)
    except csv.Error:
        return False


# each detected type that is read as a stream, and how
STREAMED: dict[str, Callable[[Path], Iterator[Section]]] = {
    "text": text_sections,
    "json": text_sections,  # a large JSON file is kept as its text, not parsed and indented again
    "markdown": markdown_sections,
    "csv": lambda path: delimited_sections(path, None),
    "tsv": lambda path: delimited_sections(path, "\t"),
}


def streamed_sections(kind: str, path: Path) -> Iterator[Section]:
    """The file's tidied sections, read as a stream; those with no text left out."""
    for section in STREAMED[kind](path):
        if text := tidy(section.text):
            yield replace(section, text=text)
