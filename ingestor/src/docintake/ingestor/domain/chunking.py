"""Cutting sections into overlapping chunks of bounded size, at the most natural boundary in reach."""

import re
from collections.abc import Iterable

from docintake.ingestor.domain.document import Chunk, Section

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’)\]]*(?=\s)")
_LINE_BREAK = re.compile(r"\n")
_SPACE = re.compile(r"\s")
# the boundaries to cut at, best first; a chunk may end where a match ends
_BOUNDARIES = (_PARAGRAPH_BREAK, _SENTENCE_END, _LINE_BREAK, _SPACE)
_NOT_SPACE = re.compile(r"\S")
_WORD_START = re.compile(r"(?<=\s)\S")


def chunk_sections(sections: Iterable[Section], size: int = 1000, overlap: int = 150) -> list[Chunk]:
    """Chunks of at most `size` characters, numbered over the whole document; none spans two sections."""
    if not size > overlap >= 0:
        raise ValueError(f"chunking needs size > overlap >= 0, got size={size}, overlap={overlap}")
    chunks: list[Chunk] = []
    for section in sections:
        for start, end in spans(section.text, size, overlap):
            chunks.append(Chunk(len(chunks), section.text[start:end], section.page, section.heading_path))
    return chunks


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
