"""The formats read through kreuzberg's Rust extractors: legacy Office, OpenDocument text and spreadsheets, RTF,
EPUB and the text of an Outlook message. Configured never to OCR, cache or fetch anything: text is all it gives.
Documents and spreadsheets come as Markdown, for their structure: headings (a sheet's name a `##` heading) start
sections, tables are Markdown tables; what else Markdown marks (emphasis, links, pictures, escapes, HTML entities)
is taken out, leaving the words. A mail's text comes plain."""

import html
import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from docintake.ingestor.adapters.parsers.sections import markdown_sections
from docintake.ingestor.domain.document import Section
from docintake.ingestor.domain.failures import ENCRYPTED, IngestError

if TYPE_CHECKING:
    from kreuzberg import ExtractionConfig

MARKDOWN_FORMATS = frozenset(("doc", "xls", "ppt", "odt", "ods", "rtf", "epub"))


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
        sections = markdown_sections(words_of_markdown(result.content))
        if kind in ("xls", "ods"):  # a section per sheet: its number is its page
            sections = [replace(section, page=number) for number, section in enumerate(sections, start=1)]
        return sections, count
    subject = str(metadata.get("subject") or "").strip()
    return [Section(result.content, heading_path=(subject,) if subject else ())], count


_PICTURE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|(?<![\w\\])_)(?=\S)(.+?)(?<=\S)\1(?!\w)")
_ESCAPE = re.compile(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{}~])")  # not a pipe: it would end a table cell
_RULE = re.compile(r"^ {0,3}(?:-{3,}|\*{3,}|_{3,})[ \t]*$", re.MULTILINE)
_CELL_PADDING = re.compile(r"(?<=\S) {2,}(?=\|)|(?<=\|) {2,}|(?<=---)-+")  # in table lines: columns aligned
_TABLE_LINE = re.compile(r"^[ \t]*\|.*$", re.MULTILINE)


def words_of_markdown(markdown: str) -> str:
    """The Markdown's headings and tables as they are, the rest of its marks taken out: pictures and rules go,
    links become their text, emphasis its words, escapes and HTML entities the characters they stand for."""
    text = _RULE.sub("", _PICTURE.sub("", markdown))
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _TABLE_LINE.sub(lambda line: _CELL_PADDING.sub(lambda pad: " " if pad.group()[0] == " " else "",
                                                          line.group()), text)
    return html.unescape(_ESCAPE.sub(r"\1", text))
