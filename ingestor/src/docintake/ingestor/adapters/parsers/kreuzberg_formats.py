"""The formats read through kreuzberg's Rust extractors: legacy Office, OpenDocument text and spreadsheets, RTF,
EPUB and the text of an Outlook message. Configured never to OCR, cache or fetch anything: text is all it gives;
spreadsheets as Markdown (a sheet's name a `##` heading, its cells a Markdown table), the rest as plain text (its
Markdown of documents holds emphasis marks and HTML entities)."""

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from docintake.ingestor.adapters.parsers.sections import markdown_sections
from docintake.ingestor.domain.document import Section
from docintake.ingestor.domain.failures import ENCRYPTED, IngestError

if TYPE_CHECKING:
    from kreuzberg import ExtractionConfig

MARKDOWN_FORMATS = frozenset(("xls", "ods"))


# kreuzberg (some 30 MiB a process) is imported by the first document of its formats, not by every parser process.
@cache
def extraction_config(output_format: str = "plain") -> "ExtractionConfig":
    from kreuzberg import ConcurrencyConfig, ExtractionConfig, TreeSitterConfig

    return ExtractionConfig(  # type: ignore[call-arg]  # its stubs lack disable_ocr
        use_cache=False,  # its cache would be files outside the ingestor's work directory
        ocr=None,
        disable_ocr=True,  # else it OCRs what has no text of its own
        output_format=output_format,
        concurrency=ConcurrencyConfig(max_threads=1),  # the parser pool's processes are the parallelism
        tree_sitter=TreeSitterConfig(enabled=False),  # it would download grammars
    )


# the type detect_type found, told to kreuzberg so that it never guesses from a file name
MIME_TYPES = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "rtf": "application/rtf",
    "epub": "application/epub+zip",
    "msg": "application/vnd.ms-outlook",
}


def extract(path: Path, kind: str) -> tuple[list[Section], int | None]:
    """The document's sections (a spreadsheet's a section per sheet, any other's text as one, a mail's headed by
    its subject), with its slide or sheet count."""
    import kreuzberg

    config = extraction_config("markdown" if kind in MARKDOWN_FORMATS else "plain")
    try:
        result = kreuzberg.extract_file_sync(path, mime_type=MIME_TYPES[kind], config=config)
    except kreuzberg.KreuzbergError as exc:
        if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise IngestError(
                ENCRYPTED, "The document is password-protected; remove the password and upload it again"
            ) from exc
        raise
    metadata = result.metadata
    pages = metadata.get("slide_count") or metadata.get("sheet_count")  # where it counts them, they are pages
    count = int(pages) if pages else None
    if kind in MARKDOWN_FORMATS:
        return markdown_sections(result.content), count
    subject = str(metadata.get("subject") or "").strip()
    return [Section(result.content, heading_path=(subject,) if subject else ())], count
