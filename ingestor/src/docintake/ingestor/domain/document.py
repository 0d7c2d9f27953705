"""What parsing produces: a document as an ordered run of text sections."""

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
