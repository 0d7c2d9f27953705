"""Text extraction, one parser per detected type; `parse_file` is the entry point."""

import csv
import email
import html
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime, time
from email import policy
from email.message import EmailMessage
from functools import partial
from pathlib import Path

import docx
import openpyxl
import pptx
import pypdfium2
import pypdfium2.raw as pdfium_c
from docx.enum.style import WD_STYLE_TYPE
from PIL import Image
from pptx.shapes.group import GroupShape
from selectolax.lexbor import LexborHTMLParser, LexborNode

from docintake.ingestor.adapters.parsers import kreuzberg_formats
from docintake.ingestor.adapters.parsers.archive import parse_zip
from docintake.ingestor.adapters.parsers.detect import MiB, detect_type
from docintake.ingestor.adapters.parsers.images import PILLOW_FORMATS, parse_image
from docintake.ingestor.adapters.parsers.members import Budget, Members
from docintake.ingestor.adapters.parsers.ocr import MAX_PIXELS, RENDER_DPI, Ocr, OcrOptions
from docintake.ingestor.adapters.parsers.opendocument import parse_odp
from docintake.ingestor.adapters.parsers.outlook import parse_msg
from docintake.ingestor.adapters.parsers.pdf_outline import headed_sections, outline
from docintake.ingestor.adapters.parsers.pdf_tables import with_tables
from docintake.ingestor.adapters.parsers.pictures import MEDIA_FOLDERS, or_pictures
from docintake.ingestor.adapters.parsers.sections import Sections, markdown_sections
from docintake.ingestor.adapters.parsers.tables import markdown_table
from docintake.ingestor.adapters.parsers.text import (
    bom_encoding,
    bomless_utf16,
    codec_name,
    decode_declared,
    decode_text,
    tidy,
)
from docintake.ingestor.domain.document import ParsedDocument, Section
from docintake.ingestor.domain.failures import CORRUPT_FILE, ENCRYPTED, NO_TEXT, IngestError

# a parser returns the document's sections and its page count, or None where the format has no pages
Extracted = tuple[list[Section], int | None]

FORMAT_NAMES = {
    "pdf": "PDF",
    "docx": "Word document",
    "pptx": "PowerPoint presentation",
    "xlsx": "Excel workbook",
    "text": "text file",
    "markdown": "Markdown file",
    "csv": "CSV file",
    "tsv": "TSV file",
    "html": "HTML page",
    "eml": "email",
    "json": "JSON file",
    "doc": "Word 97-2003 document",
    "xls": "Excel 97-2003 workbook",
    "ppt": "PowerPoint 97-2003 presentation",
    "msg": "Outlook message",
    "odt": "OpenDocument text",
    "ods": "OpenDocument spreadsheet",
    "odp": "OpenDocument presentation",
    "rtf": "RTF document",
    "epub": "EPUB e-book",
    "zip": "ZIP archive",
    "png": "PNG image",
    "jpeg": "JPEG image",
    "tiff": "TIFF image",
    "gif": "GIF image",
    "bmp": "BMP image",
    "webp": "WebP image",
}
CHARACTERS_PER_PAGE = 3000


def parse_file(
    path: Path, filename_hint: str = "", max_expanded_bytes: int = 256 * MiB, ocr: OcrOptions = OcrOptions()
) -> ParsedDocument:
    """Detect the type of the file at `path` from its content and extract its text, else raise IngestError.
    Images, and the pages of a PDF that have no text layer, are read by OCR within the bounds of `ocr`."""
    path = Path(path)
    kind = detect_type(path, filename_hint, max_expanded_bytes)
    recognition = Ocr(ocr)  # one page budget for the upload and every file it holds
    members = Members(
        partial(_read_member, max_expanded_bytes=max_expanded_bytes, ocr=recognition), Budget(max_expanded_bytes)
    )
    sections, pages = _read(kind, path, members, recognition)
    if pages is None:
        pages = math.ceil(sum(len(section.text) for section in sections) / CHARACTERS_PER_PAGE)
    return ParsedDocument(kind, tuple(sections), pages)


def _read_member(path: Path, filename_hint: str, members: Members, max_expanded_bytes: int, ocr: Ocr) -> Extracted:
    return _read(detect_type(path, filename_hint, max_expanded_bytes), path, members, ocr)


def _read(kind: str, path: Path, members: Members, ocr: Ocr) -> Extracted:
    """The tidied sections of a file of this kind, the files it holds read through `members`, else IngestError."""
    try:
        if kind in CONTAINER_PARSERS:
            sections, pages = CONTAINER_PARSERS[kind](path, members)
        elif kind in OCR_PARSERS:
            sections, pages = OCR_PARSERS[kind](path, ocr)
        else:
            sections, pages = PARSERS[kind](path)
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(
            CORRUPT_FILE, f"The {FORMAT_NAMES[kind]} could not be read; the file may be damaged or incomplete"
        ) from exc
    tidied = [replace(section, text=text) for section in sections if (text := tidy(section.text))]
    if not tidied:
        raise IngestError(NO_TEXT, _no_text_reason(kind))
    return tidied, pages


def _no_text_reason(kind: str) -> str:
    if kind == "pdf":
        return "No text: the PDF has no text layer, and OCR found no text on its pages (they may be blank)"
    if kind in PILLOW_FORMATS:
        return "No text: OCR found no text in the image"
    if kind in MEDIA_FOLDERS:
        return "No extractable text: the document is blank (no text, and no picture that could hold any)"
    if kind in ("doc", "ppt"):
        return "No extractable text: the document may hold only pictures, which are not OCR'd in 97-2003 files"
    return "No extractable text: the file is blank"


def parse_pdf(path: Path, ocr: Ocr) -> Extracted:
    """A section per page, or per bookmark of the outline where one starts on it: its text layer, or the text OCR
    reads in it where it has none but shows something."""
    try:
        document = pypdfium2.PdfDocument(path)
    except pypdfium2.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise IngestError(
                ENCRYPTED, "The PDF is password-protected; remove the password and upload it again"
            ) from exc
        raise IngestError(CORRUPT_FILE, "The PDF is damaged or incomplete and could not be read") from exc
    try:
        pages = len(document)
        texts = [_pdf_page_text(document, index) for index in range(pages)]
        scanned = [index for index, text in enumerate(texts) if not text.strip() and _shows_something(document, index)]
        ocr.reserve(len(scanned))  # before any is OCR'd: a scan over the cap fails at once
        rendered = (_render(document, index) + (index + 1,) for index in scanned)
        for index, text in zip(scanned, ocr.read(rendered), strict=True):
            texts[index] = text
        return headed_sections(texts, set(scanned), outline(document)), pages
    finally:
        document.close()


def _shows_something(document: pypdfium2.PdfDocument, index: int) -> bool:
    """Whether the page holds anything to see (an image, a drawing): a blank page is not worth OCR."""
    page = document[index]
    try:
        return bool(pdfium_c.FPDFPage_CountObjects(page.raw) > 0)
    finally:
        page.close()


def _render(document: pypdfium2.PdfDocument, index: int) -> tuple[Image.Image, float]:
    """The page as a grayscale image at RENDER_DPI, or less where that would pass MAX_PIXELS; and its dpi."""
    page = document[index]
    try:
        width, height = page.get_size()
        scale = min(RENDER_DPI / 72, (MAX_PIXELS / max(width * height, 1.0)) ** 0.5)
        return page.render(scale=scale, grayscale=True).to_pil(), scale * 72
    finally:
        page.close()


def _pdf_page_text(document: pypdfium2.PdfDocument, index: int) -> str:
    """The page's text layer, the tables its layout shows as Markdown tables."""
    page = document[index]
    text_page = page.get_textpage()
    try:
        return with_tables(text_page, text_page.get_text_range(), page.get_width())
    finally:
        text_page.close()
        page.close()


def parse_docx(path: Path) -> Extracted:
    document = docx.Document(str(path))
    headings = {
        style.style_id: _heading_level(style.name)
        for style in document.styles
        if style.type == WD_STYLE_TYPE.PARAGRAPH and style.name.startswith(("Heading", "Title"))
    }
    sections = Sections()
    for block in _docx_blocks(document.element.body):
        if block.tag == _W_TBL:
            sections.add("\n" + markdown_table(_docx_table_rows(block)) + "\n\n")
            continue
        text = "".join(_docx_runs_text(block))
        style = block.find(_W_STYLE_PATH)
        if style is not None and (level := headings.get(style.get(_W_VAL))) is not None:
            sections.start(text, level)
        sections.add(text + "\n")
    return sections.done(), None


def _heading_level(style_name: str) -> int:
    """Title 0, Heading 1 to Heading 9 their number, any other heading style below them."""
    if style_name.startswith("Title"):
        return 0
    number = style_name.removeprefix("Heading").strip()
    return int(number) if number.isdigit() else 10


# Word's XML is walked directly: python-docx's object model is several times slower on long documents
# and skips paragraphs inside content controls.
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W_P, _W_TBL, _W_TR, _W_TC, _W_T, _W_VAL = (f"{_W}{name}" for name in ("p", "tbl", "tr", "tc", "t", "val"))
_W_STYLE_PATH = f"{_W}pPr/{_W}pStyle"
_W_CHARACTERS = {f"{_W}tab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
# formatting, and the fallback copy of a text box, which repeats its primary copy
_W_SKIP = frozenset(
    (f"{_W}pPr", f"{_W}rPr", "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback")
)


def _docx_blocks(parent) -> Iterator:
    """Paragraphs and tables in reading order, also those wrapped in content controls and the like."""
    for child in parent:
        if child.tag in (_W_P, _W_TBL):
            yield child
        elif child.tag not in _W_SKIP:
            yield from _docx_blocks(child)


def _docx_runs_text(element) -> Iterator[str]:
    for child in element:
        if child.tag == _W_T:
            yield child.text or ""
        elif child.tag in _W_CHARACTERS:
            yield _W_CHARACTERS[child.tag]
        elif child.tag not in _W_SKIP:
            yield from _docx_runs_text(child)


def _docx_table_rows(table) -> Iterator[list[str]]:
    """The cells of each row, a merged cell once, tables nested in cells flattened into them."""
    for row in table.iterchildren(_W_TR):
        yield [" ".join(_docx_cell_lines(cell)) for cell in row.iterchildren(_W_TC)]


def _docx_table_lines(table) -> Iterator[str]:
    """A nested table's rows, cells tab-separated, for the text of the cell that holds it."""
    for row in _docx_table_rows(table):
        yield "\t".join(row)


def _docx_cell_lines(cell) -> Iterator[str]:
    for block in _docx_blocks(cell):
        if block.tag == _W_TBL:
            yield from _docx_table_lines(block)
        else:
            yield "".join(_docx_runs_text(block))


def parse_pptx(path: Path) -> Extracted:
    presentation = pptx.Presentation(str(path))
    sections = []
    for number, slide in enumerate(presentation.slides, start=1):
        title = slide.shapes.title
        heading = title.text_frame.text.strip() if title is not None and title.has_text_frame else ""
        text = "\n".join(_shape_lines(slide.shapes))
        sections.append(Section(text, page=number, heading_path=(heading,) if heading else ()))
    return sections, len(presentation.slides)


def _shape_lines(shapes: Iterable) -> Iterator[str]:
    for shape in shapes:
        if isinstance(shape, GroupShape):
            yield from _shape_lines(shape.shapes)
        elif shape.has_text_frame:
            yield shape.text_frame.text
        elif shape.has_table:
            yield markdown_table([cell.text for cell in row.cells] for row in shape.table.rows)


def parse_xlsx(path: Path) -> Extracted:
    with path.open("rb") as stream:  # a stream, so openpyxl does not insist on an .xlsx file name
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
        try:
            sheets = workbook.worksheets
            return [
                Section(_sheet_text(sheet), page=number, heading_path=(sheet.title,))
                for number, sheet in enumerate(sheets, start=1)
            ], len(sheets)
        finally:
            workbook.close()


def _sheet_text(sheet) -> str:
    """The sheet's rows with a value as a Markdown table, its first such row the header."""
    sheet.reset_dimensions()  # the declared dimensions can be wrong, or absurdly large
    rows = []
    for row in sheet.iter_rows(values_only=True):
        cells = [_cell_text(value) for value in row]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            rows.append(cells)
    return markdown_table(rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time():
        return value.date().isoformat()
    return str(value).strip()


def parse_text(path: Path) -> Extracted:
    return [Section(decode_text(path.read_bytes()))], None


def parse_markdown(path: Path) -> Extracted:
    return markdown_sections(decode_text(path.read_bytes())), None


def parse_csv(path: Path) -> Extracted:
    return _delimited(decode_text(path.read_bytes()), None), None


def parse_tsv(path: Path) -> Extracted:
    return _delimited(decode_text(path.read_bytes()), "\t"), None


_SNIFF_SAMPLE = 4096


def _delimited(text: str, delimiter: str | None) -> list[Section]:
    """The rows as a Markdown table under their header row, or under `Column N` headers where the sniffer sees
    none; text that is not clearly delimited as it is."""
    # the csv sniffer slows down quadratically on quote-heavy text: a few KiB of whole lines must do
    sample = text[:_SNIFF_SAMPLE].rsplit("\n", 1)[0] if len(text) > _SNIFF_SAMPLE else text
    try:
        dialect = csv.excel_tab if delimiter == "\t" else csv.Sniffer().sniff(sample, delimiters=",;\t|")
        rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(cell.strip() for cell in row)]
    except csv.Error:
        return [Section(text)]
    if len(rows) < 2 or not _has_header(sample):
        width = max((len(row) for row in rows), default=0)
        return [Section(markdown_table(rows, [f"Column {number}" for number in range(1, width + 1)]))]
    return [Section(markdown_table(rows))]


def _has_header(sample: str) -> bool:
    try:
        return csv.Sniffer().has_header(sample)
    except csv.Error:
        return False


_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.I
)


def parse_html(path: Path) -> Extracted:
    return html_sections(_decode_html(path.read_bytes())), None


def _decode_html(raw: bytes) -> str:
    match = None if bom_encoding(raw) else _DECLARED_CHARSET.search(raw[:4096])
    label = (match.group(1) or match.group(2)).decode("ascii") if match else None
    # found in ASCII-compatible bytes, a UTF-16 or UTF-32 label cannot be right
    if (codec_name(label) or "").startswith(("utf-16", "utf-32")):
        label = None
    return decode_declared(raw, label)


_BLOCKS = frozenset(
    "address article aside blockquote body caption dd details dialog div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section summary table tbody td tfoot "
    "th thead tr ul".split()
)
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_CELLS = frozenset(("td", "th"))
_SPACES = re.compile(r"\s+")
_RUNS_OF_SPACES = re.compile(r" {2,}")


def html_sections(markup: str) -> list[Section]:
    """Text of the HTML body: a line per block element, a section per h1-h6, the title heading the start, each
    table a Markdown table."""
    tree = LexborHTMLParser(markup)
    tree.strip_tags(["script", "style", "noscript", "template"])
    _tables_as_markdown(tree)
    title = tree.css_first("title")
    sections = Sections(_SPACES.sub(" ", title.text()).strip() if title is not None else None)
    previous = None
    root = tree.body or tree.root
    assert root is not None, "lexbor parses any markup into a tree"
    for block, text in _html_blocks(root):
        if not text.strip():
            continue
        if block.tag in _HEADINGS:
            sections.start(_SPACES.sub(" ", text), int(block.tag[1]))
        sections.add(("\t" if _same_row(previous, block) else "\n") + text)
        previous = block
    return sections.done()


def _tables_as_markdown(tree: LexborHTMLParser) -> None:
    """Each table replaced by a <pre> of its Markdown, the innermost first (an outer cell holds an inner table's
    text on one line)."""
    for table in reversed(tree.css("table")):
        rows = [[cell.text() for cell in row.css("th, td")] for row in table.css("tr")]
        rows = [row for row in rows if any(cell.strip() for cell in row)]
        text = markdown_table(rows)
        replacement = LexborHTMLParser(f"<pre>\n{html.escape(text)}\n</pre>").css_first("pre")
        if replacement is not None:
            table.replace_with(replacement)


def _html_blocks(root: LexborNode) -> Iterator[tuple[LexborNode, str]]:
    """Each block element with its own text (not that of the blocks nested in it), in reading order.

    One walk of the tree that carries each node's block down with it, so that deeply nested inline
    elements cost what their size costs (asking each text node for its block would be quadratic)."""
    block: LexborNode | None = None
    parts: list[str] = []
    stack = [(root, _block_of(root))]
    while stack:
        node, enclosing = stack.pop()
        if node.mem_id != root.mem_id and node.next is not None:
            stack.append((node.next, enclosing))
        if node.is_text_node:
            if block is None or enclosing.mem_id != block.mem_id:
                if block is not None:
                    yield block, _block_text(block, parts)
                block, parts = enclosing, []
            text = node.text_content or ""
            parts.append(text if enclosing.tag == "pre" else _SPACES.sub(" ", text))
            continue
        if node.tag == "br":
            parts.append("\n")
        if node.child is not None:
            stack.append((node.child, node if node.tag in _BLOCKS else enclosing))
    if block is not None:
        yield block, _block_text(block, parts)


def _block_text(block: LexborNode, parts: list[str]) -> str:
    text = "".join(parts)
    if block.tag == "pre":
        return text
    return "\n".join(_RUNS_OF_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def _block_of(node: LexborNode) -> LexborNode:
    while node.parent is not None and node.tag not in _BLOCKS:
        node = node.parent
    return node


def _same_row(previous: LexborNode | None, current: LexborNode) -> bool:
    return (
        previous is not None
        and previous.tag in _CELLS
        and current.tag in _CELLS
        and previous.parent is not None
        and current.parent is not None
        and previous.parent.mem_id == current.parent.mem_id
    )


_MAIL_HEADERS = ("Subject", "From", "To", "Cc", "Date")


def parse_eml(path: Path) -> Extracted:
    raw = path.read_bytes()
    if bom_encoding(raw) or bomless_utf16(raw[:4096]):  # a whole message saved as UTF-16 or UTF-32 text
        message = email.message_from_string(decode_text(raw), policy=policy.default)
    else:
        message = email.message_from_bytes(raw, policy=policy.default)
    lines = [f"{name}: {value}" for name in _MAIL_HEADERS if (value := _header(message, name))]
    attachments = [name for part in message.walk() if (name := part.get_filename())]
    if attachments:
        lines.append("Attachments: " + ", ".join(attachments))
    text = "\n".join(lines) + "\n\n" + _mail_body(message)
    subject = _header(message, "Subject")
    return [Section(text, heading_path=(subject,) if subject else ())], None


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a malformed header must not cost the whole message
        return ""
    return _SPACES.sub(" ", str(value)).strip() if value is not None else ""


def _mail_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    payload = part.get_payload(decode=True)  # bytes, or None for a part without a body
    content = decode_declared(payload if isinstance(payload, bytes) else b"", part.get_content_charset())
    if part.get_content_subtype() == "html":
        return "\n\n".join(section.text for section in html_sections(content))
    return content


def parse_json(path: Path) -> Extracted:
    text = decode_text(path.read_bytes())
    try:
        return [Section(json.dumps(json.loads(text), indent=2, ensure_ascii=False))], None
    except ValueError:
        pass
    try:  # newline-delimited JSON
        records = [json.loads(line) for line in text.split("\n") if line.strip()]
    except ValueError:  # not JSON after all: its text is still worth keeping
        return [Section(text)], None
    return [Section("\n".join(json.dumps(record, ensure_ascii=False) for record in records))], None


PARSERS: dict[str, Callable[[Path], Extracted]] = {
    **{kind: partial(kreuzberg_formats.extract, kind=kind) for kind in kreuzberg_formats.MIME_TYPES if kind != "msg"},
    "docx": parse_docx,
    "pptx": parse_pptx,
    "odp": parse_odp,
    "xlsx": parse_xlsx,
    "text": parse_text,
    "markdown": parse_markdown,
    "csv": parse_csv,
    "tsv": parse_tsv,
    "html": parse_html,
    "eml": parse_eml,
    "json": parse_json,
}
# formats read by OCR, all or in part, within the upload's OCR bounds: tried before PARSERS, which Office documents
# whose pictures are OCR'd where they have no text of their own are in too
OCR_PARSERS: dict[str, Callable[[Path, Ocr], Extracted]] = {
    "pdf": parse_pdf,
    **{kind: partial(parse_image, kind=kind) for kind in PILLOW_FORMATS},
    **{kind: or_pictures(PARSERS[kind], kind) for kind in MEDIA_FOLDERS},
}
# formats that hold files of their own, each read as a document
CONTAINER_PARSERS: dict[str, Callable[[Path, Members], Extracted]] = {
    "zip": parse_zip,
    "msg": parse_msg,
}
