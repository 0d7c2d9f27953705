"""A source's versions: the content a source has now, and what linking a new version to it did.

A source (collection, path) points at one content-keyed Document, its current version. An upload
of the content the source has already is settled without a parse: as the write that made it
current when it is that very upload again (a redelivery), as unchanged when it is another.
"""

from dataclasses import dataclass

from docintake.contracts.events import DocumentRef, Extraction, SourceChange


@dataclass(frozen=True)
class Figures:
    """What parsing a content gave, as its DocumentIngested reports it."""

    detected_type: str
    pages: int
    chunks: int
    characters: int
    extraction: Extraction = "native"
    ocr_pages: int = 0


@dataclass(frozen=True)
class SourceWrite:
    """What linking a version to its source did; when it replaced one, that content and whether it left the graph."""

    change: SourceChange
    replaced_sha256: str | None = None
    replaced_document_deleted: bool = False


UNCHANGED = SourceWrite("unchanged")


@dataclass(frozen=True)
class CurrentVersion:
    """The content a source has now, the upload whose write made it current, and what that write did."""

    sha256: str
    document_id: str
    write: SourceWrite
    figures: Figures


def settled_without_parsing(current: CurrentVersion | None, ref: DocumentRef) -> SourceWrite | None:
    """What the upload `ref` did to its source when its content is current already; None when it is to be written."""
    if current is None or current.sha256 != ref.sha256:
        return None
    if current.document_id == str(ref.document_id):
        return current.write
    return UNCHANGED
