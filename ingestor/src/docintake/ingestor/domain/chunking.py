"""Cutting sections into overlapping chunks of bounded size, at the most natural boundary in reach; Markdown
tables (a header row, its separator, a line per row) are cut between rows only, each piece under the header."""

import re
from collections.abc import Iterable, Iterator

from docintake.ingestor.domain.document import Chunk, Section

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’)\]]*(?=\s)")
_LINE_BREAK = re.compile(r"\n")
_SPACE = re.compile(r"\s")
# the boundaries to cut at, best first; a chunk may end where a match ends
_BOUNDARIES = (_PARAGRAPH_BREAK, _SENTENCE_END, _LINE_BREAK, _SPACE)
_NOT_SPACE = re.compile(r"\S")
_WORD_START = re.compile(r"(?<=\s)\S")


# a table row longer than a chunk is kept whole up to this many chunk sizes; past it, cut like prose under the header
ROW_LIMIT_CHUNKS = 4
_TABLE_ROW = re.compile(r"[ \t]*\|")
_TABLE_SEPARATOR = re.compile(r"[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+[ \t]*:?-*:?[ \t]*$")


def chunk_sections(sections: Iterable[Section], size: int = 1000, overlap: int = 150) -> list[Chunk]:
    """Chunks of at most `size` characters, numbered over the whole document; none spans two sections, each
    carries its section's page and heading path. A table is cut between rows only, each piece repeating the
    header row and separator; a single row longer than `size` is a chunk of its own, whole, up to
    ROW_LIMIT_CHUNKS sizes (past that it is cut at word boundaries, each piece under the header). A table whose
    header row and separator take more than half a chunk is cut like prose, its header not repeated."""
    return list(iter_chunks(sections, size, overlap))


def iter_chunks(sections: Iterable[Section], size: int = 1000, overlap: int = 150) -> Iterator[Chunk]:
    """The chunks of chunk_sections one at a time, the sections read as they are needed: a document streamed
    section by section is never whole in memory."""
    if not size > overlap >= 0:
        raise ValueError(f"chunking needs size > overlap >= 0, got size={size}, overlap={overlap}")
    index = 0
    for section in sections:
        for text in section_pieces(section.text, size, overlap):
            yield Chunk(index, text, section.page, section.heading_path)
            index += 1


def section_pieces(text: str, size: int, overlap: int) -> list[str]:
    """The chunk texts of one section: the whole section where it fits, else its prose cut by `spans` and its
    tables by rows. Linear in the length of the text."""
    if len(text.strip()) <= size or "|" not in text:
        return [text[start:end] for start, end in spans(text, size, overlap)]
    pieces: list[str] = []
    for is_table, block in _blocks(text):
        if is_table:
            pieces.extend(_table_pieces(block, size))
        else:
            pieces.extend(block[start:end] for start, end in spans(block, size, overlap))
    return pieces


def _blocks(text: str) -> list[tuple[bool, str]]:
    """The text as runs of prose and of tables (a row line followed by a separator line, then row lines)."""
    lines = text.split("\n")
    blocks: list[tuple[bool, str]] = []
    prose: list[str] = []
    index = 0
    while index < len(lines):
        if (
            _TABLE_ROW.match(lines[index])
            and index + 1 < len(lines)
            and _TABLE_SEPARATOR.match(lines[index + 1])
        ):
            end = index + 2
            while end < len(lines) and _TABLE_ROW.match(lines[end]):
                end += 1
            if prose:
                blocks.append((False, "\n".join(prose)))
                prose = []
            blocks.append((True, "\n".join(lines[index:end])))
            index = end
        else:
            prose.append(lines[index])
            index += 1
    if prose:
        blocks.append((False, "\n".join(prose)))
    return blocks


def _table_pieces(table: str, size: int) -> list[str]:
    """The table in pieces of whole rows, each under the header row and separator, within `size` where the
    rows allow."""
    header_row, separator, *rows = table.split("\n")
    header = f"{header_row}\n{separator}"
    if not rows or len(table) <= size:
        return [table]
    if len(header) > size // 2:  # a header that would fill its chunks is not repeated: the table is cut as prose
        return [table[start:end] for start, end in spans(table, size, 0)]
    pieces: list[str] = []
    current: list[str] = []
    length = len(header)
    for row in rows:
        if current and length + 1 + len(row) > size:
            pieces.append("\n".join((header, *current)))
            current, length = [], len(header)
        if len(row) > ROW_LIMIT_CHUNKS * size:
            budget = max(size - len(header) - 1, size // 2)
            pieces.extend(f"{header}\n{row[start:end]}" for start, end in spans(row, budget, 0))
            continue
        current.append(row)
        length += 1 + len(row)
    if current:
        pieces.append("\n".join((header, *current)))
    return pieces


def spans(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) of each chunk of `text`: no blank edges, consecutive chunks overlapping by up to
    `overlap` characters (starting on a word where possible), together covering every non-blank character."""
    result: list[tuple[int, int]] = []
    start = _skip_space(text, 0)
    last = len(text.rstrip())
    while start < last:
        end = last if last - start <= size else _cut(text, start, size, overlap)
        end = len(text[start:end].rstrip()) + start
        if result and end <= result[-1][1]:
            # only blank space in reach: the overlap would repeat the last chunk, so start after it
            start = _skip_space(text, result[-1][1])
            continue
        result.append((start, end))
        if end >= last:
            break
        following = _skip_space(text, end)
        start = min(_word_start(text, max(end - overlap, start + 1)), following)
    return result


def _cut(text: str, start: int, size: int, overlap: int) -> int:
    """Where to end a chunk that starts at `start`: the last best boundary past overlap and half the size."""
    earliest, limit = start + max(size // 2, overlap + 1), start + size
    for boundary in _BOUNDARIES:
        ends = [match.end() for match in boundary.finditer(text, earliest, limit)]
        if ends:
            return ends[-1]
    return limit


def _skip_space(text: str, position: int) -> int:
    match = _NOT_SPACE.search(text, position)
    return match.start() if match else len(text)


def _word_start(text: str, position: int) -> int:
    if position == 0 or text[position - 1].isspace():
        return _skip_space(text, position)
    match = _WORD_START.search(text, position)
    return match.start() if match else len(text)
