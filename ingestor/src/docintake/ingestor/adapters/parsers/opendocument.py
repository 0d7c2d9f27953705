"""OpenDocument presentations (.odp), which kreuzberg does not read: a section per slide, titled by the slide."""

import zipfile
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from docintake.ingestor.domain.document import Section

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
_PRESENTATION_CLASS = "{urn:oasis:names:tc:opendocument:xmlns:presentation:1.0}class"
_PARAGRAPHS = (f"{_TEXT}p", f"{_TEXT}h")
_CHARACTERS = {f"{_TEXT}tab": "\t", f"{_TEXT}line-break": "\n", f"{_TEXT}s": " "}


def parse_odp(path: Path) -> tuple[list[Section], int | None]:
    with zipfile.ZipFile(path) as package:
        content = etree.fromstring(package.read("content.xml"), etree.XMLParser(resolve_entities=False))
    slides = list(content.iter(f"{_DRAW}page"))
    sections = [
        Section("\n".join(_paragraphs(slide)), page=number, heading_path=_title(slide))
        for number, slide in enumerate(slides, start=1)
    ]
    return sections, len(slides)


def _title(slide: etree._Element) -> tuple[str, ...]:
    """The slide's title as its heading path, or none."""
    for frame in slide.iter(f"{_DRAW}frame"):
        if frame.get(_PRESENTATION_CLASS) == "title":
            title = " ".join(_paragraphs(frame)).strip()
            return (title,) if title else ()
    return ()


def _paragraphs(element: etree._Element) -> Iterator[str]:
    """The text of each paragraph and heading, in reading order; a paragraph nested in another (in a frame
    anchored to it) is its own."""
    for paragraph in element.iter(*_PARAGRAPHS):
        yield "".join(_own_text(paragraph))


def _own_text(paragraph: etree._Element) -> Iterator[str]:
    yield paragraph.text or ""
    for child in paragraph:
        if child.tag in _CHARACTERS:
            count = int(child.get(f"{_TEXT}c", "1")) if child.tag == f"{_TEXT}s" else 1
            yield _CHARACTERS[child.tag] * count
        elif child.tag not in _PARAGRAPHS and child.tag != f"{_DRAW}frame":
            yield from _own_text(child)
        yield child.tail or ""
