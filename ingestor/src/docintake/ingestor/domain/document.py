"""The document model: a parsed document as an ordered run of text sections, and the chunks cut from them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """A run of text under one heading, on one page where the format has pages."""

    text: str
    page: int | None = None
    heading: str | None = None


@dataclass(frozen=True)
class ParsedDocument:
    """`pages` is the page, slide or sheet count where the format has them, else an estimate from length."""

    detected_type: str
    sections: tuple[Section, ...]
    pages: int

    @property
    def characters(self) -> int:
        return sum(len(section.text) for section in self.sections)


@dataclass(frozen=True)
class Chunk:
    """A piece of one section, numbered over the whole document; what the knowledge graph stores and links."""

    index: int
    text: str
    page: int | None
    heading: str | None
