"""A PDF's outline (its bookmarks) as the heading paths of its pages' text: each bookmark starts a section where its
title stands on the page it points at (at the top of that page where the title is not found in its text), under the
bookmarks that hold it."""

import re
from collections import defaultdict
from collections.abc import Sequence

import pypdfium2

from docintake.ingestor.domain.document import Section

MAX_OUTLINE_ITEMS = 10_000  # a bigger outline is no table of contents but damage; the pages stay unheaded
Marks = dict[int, list[tuple[int, str]]]  # by page index: the bookmarks pointing at it, each (level, title)


def outline(document: pypdfium2.PdfDocument) -> Marks:
    """The bookmarks that point at each page (by page index), in outline order, each as (level, title); none for a
    PDF without an outline or one that cannot be read."""
    marks: Marks = defaultdict(list)
    try:
        for count, bookmark in enumerate(document.get_toc()):
            if count >= MAX_OUTLINE_ITEMS:
                return {}
            destination = bookmark.get_dest()
            title = " ".join(bookmark.get_title().split())
            index = destination.get_index() if destination is not None else None
            if title and index is not None and 0 <= index < len(document):
                marks[index].append((bookmark.level, title))
    except pypdfium2.PdfiumError:
        return {}
    return marks


def headed_sections(texts: Sequence[str], ocr_pages: set[int], marks: Marks) -> list[Section]:
    """A section per page, or several where bookmarks start sections on it; each with its page number and the
    titles of the bookmarks above it, outermost first. An OCR'd page stays one section (each OCR'd page is one),
    under the last of its bookmarks."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    for index, text in enumerate(texts):
        start = 0
        for level, title in marks.get(index, ()):
            if index not in ocr_pages:
                cut = _title_in(text, title, start)
                if cut is not None and text[start:cut].strip():
                    sections.append(_section(text[start:cut], index, ocr_pages, path))
                start = cut if cut is not None else start
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, title))
        sections.append(_section(text[start:], index, ocr_pages, path))
    return sections


def _section(text: str, index: int, ocr_pages: set[int], path: list[tuple[int, str]]) -> Section:
    return Section(text, page=index + 1, heading_path=tuple(title for _, title in path), ocr=index in ocr_pages)


def _title_in(text: str, title: str, start: int) -> int | None:
    """Where the title stands in the text from `start` on, its words apart by any white space, in any case."""
    pattern = r"\s+".join(re.escape(word) for word in title.split())
    match = re.search(pattern, text[start:], re.IGNORECASE)
    return start + match.start() if match else None
