"""The formats read through kreuzberg's Rust extractors: legacy Office, OpenDocument text and spreadsheets, RTF,
EPUB and the text of an Outlook message. Configured never to OCR, cache or fetch anything: text is all it gives."""

from pathlib import Path

import kreuzberg
from kreuzberg import ConcurrencyConfig, ExtractionConfig, TreeSitterConfig

from docintake.ingestor.domain.document import Section
from docintake.ingestor.domain.failures import ENCRYPTED, IngestError

EXTRACTION_CONFIG = ExtractionConfig(  # type: ignore[call-arg]  # its stubs lack disable_ocr
    use_cache=False,  # its cache would be files outside the ingestor's work directory
    ocr=None,
    disable_ocr=True,  # else it OCRs what has no text of its own
    output_format="plain",
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
    """The document's text as one section, headed by a mail's subject, with its slide or sheet count."""
    try:
        result = kreuzberg.extract_file_sync(path, mime_type=MIME_TYPES[kind], config=EXTRACTION_CONFIG)
    except kreuzberg.KreuzbergError as exc:
        if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise IngestError(
                ENCRYPTED, "The document is password-protected; remove the password and upload it again"
            ) from exc
        raise
    metadata = result.metadata
    pages = metadata.get("slide_count") or metadata.get("sheet_count")  # where it counts them, they are pages
    subject = str(metadata.get("subject") or "").strip()
    return [Section(result.content, heading_path=(subject,) if subject else ())], int(pages) if pages else None
