"""The document model: a parsed document as an ordered run of text sections, and the chunks cut from them."""

from dataclasses import dataclass

from docintake.contracts.events import Extraction


@dataclass(frozen=True)
class Section:
    """A run of text under one heading, on one page where the format has pages; `heading_path`: the headings
    above it, outermost first and its own last (a title, chapter, section; a slide's title; an archive member's
    path before the member's own headings); `ocr`: its text was recognised in an image of the page (each OCR'd
    page is one section)."""

    text: str
    page: int | None = None
    heading_path: tuple[str, ...] = ()
    ocr: bool = False

    @property
    def heading(self) -> str | None:
        """The section's own heading, the last of its path."""
        return self.heading_path[-1] if self.heading_path else None


@dataclass(frozen=True)
class Spool:
    """The chunks of a document too large to pass between processes whole: cut by its parser process and written to
    the file at `path` in records of a bounded size, each record a transaction's worth (read back one at a time)."""

    path: str
    chunks: int
    characters: int
    sections: int
    ocr_pages: int = 0

    def __len__(self) -> int:
        return self.chunks


@dataclass(frozen=True)
class ParsedDocument:
    """`pages` is the page, slide or sheet count where the format has them, else an estimate from length. A large
    document comes without its sections, chunked already into its `spool`."""

    detected_type: str
    sections: tuple[Section, ...]
    pages: int
    spool: Spool | None = None

    @property
    def characters(self) -> int:
        if self.spool is not None:
            return self.spool.characters
        return sum(len(section.text) for section in self.sections)

    @property
    def ocr_pages(self) -> int:
        """Pages whose text came from OCR."""
        if self.spool is not None:
            return self.spool.ocr_pages
        return sum(1 for section in self.sections if section.ocr)

    @property
    def extraction(self) -> Extraction:
        """How the text was got: native (a text layer, the format's own text), ocr, or mixed (some of each)."""
        ocr = self.ocr_pages
        if not ocr:
            return "native"
        sections = self.spool.sections if self.spool is not None else len(self.sections)
        return "ocr" if ocr == sections else "mixed"


@dataclass(frozen=True)
class Chunk:
    """A piece of one section, numbered over the whole document, with the section's page and heading path (every
    chunk of a section repeats them); what the knowledge graph stores and links."""

    index: int
    text: str
    page: int | None
    heading_path: tuple[str, ...] = ()

    @property
    def heading(self) -> str | None:
        return self.heading_path[-1] if self.heading_path else None
