"""Test documents generated as bytes by the libraries that write each format; shared with the benchmarks."""

import csv
import io
import random
import struct
import textwrap
import zipfile
from collections.abc import Iterator, Sequence
from email.message import EmailMessage
from functools import lru_cache

import docx as python_docx
import openpyxl
import pptx as python_pptx
import pypdf
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

MiB = 1024 * 1024


def pdf(pages: Sequence[str]) -> bytes:
    """A PDF with one page per string, its text extractable (Helvetica: Latin-1 characters only)."""
    buffer = io.BytesIO()
    document = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    for page in pages:
        text = document.beginText(50, A4[1] - 60)
        text.setFont("Helvetica", 10)
        for line in page.split("\n"):
            for wrapped in textwrap.wrap(line, 95) or [""]:
                text.textLine(wrapped)
        document.drawText(text)
        document.showPage()
    document.save()
    return buffer.getvalue()


def outlined_pdf(pages: Sequence[Sequence[tuple[int | None, str]]]) -> bytes:
    """A PDF with one page per list of lines, each line (level, text): a line with a level is a heading, and a
    bookmark of the PDF's outline at that level (0 the outermost) points at it; a line without one is body text."""
    buffer = io.BytesIO()
    document = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    marks = 0
    for lines in pages:
        y = A4[1] - 60
        for level, line in lines:
            document.setFont("Helvetica-Bold" if level is not None else "Helvetica", 10)
            document.drawString(50, y, line)
            if level is not None:
                marks += 1
                document.bookmarkHorizontal(f"mark{marks}", 0, y + 12)
                document.addOutlineEntry(line, f"mark{marks}", level=level)
            y -= 14
        document.showPage()
    document.save()
    return buffer.getvalue()


def laid_out_pdf(blocks: Sequence[tuple[float, Sequence[str]]], by_columns: bool = False) -> bytes:
    """One page of text laid out in columns: each block (x, lines) a column of lines starting at that x, line n of
    every block on the same baseline. Written row by row (a table's order), or `by_columns` (prose in columns)."""
    buffer = io.BytesIO()
    document = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    document.setFont("Helvetica", 10)
    placed = [(x, A4[1] - 60 - 14 * n, line) for x, lines in blocks for n, line in enumerate(lines)]
    for x, y, line in sorted(placed, key=(lambda p: (p[0], -p[1])) if by_columns else (lambda p: (-p[1], p[0]))):
        if line:
            document.drawString(x, y, line)
    document.showPage()
    document.save()
    return buffer.getvalue()


def with_bookmark(pdf_bytes: bytes, title: str, page_index: int) -> bytes:
    """The PDF with one more top-level bookmark, pointing at the top of a page (pypdf)."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf_bytes)))
    writer.add_outline_item(title=title, page_number=page_index)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def image_pdf() -> bytes:
    """A PDF whose only page is a picture (of shapes, not of text): nothing to extract without OCR."""
    picture = Image.new("RGB", (400, 300), "white")
    ImageDraw.Draw(picture).rectangle((50, 50, 350, 250), outline="black", fill="gray")
    buffer = io.BytesIO()
    document = canvas.Canvas(buffer, pagesize=A4)
    document.drawImage(ImageReader(picture), 50, 400, width=400, height=300)
    document.showPage()
    document.save()
    return buffer.getvalue()


def encrypted_pdf(pages: Sequence[str] = ("Secret minutes",), password: str = "secret") -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf(pages))))
    writer.encrypt(user_password=password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def truncated_pdf() -> bytes:
    whole = pdf(["A page that will be cut off"] * 3)
    return whole[: len(whole) // 2]


def docx(sections: Sequence[tuple[str, Sequence[str]]], table: Sequence[Sequence[str]] = ()) -> bytes:
    """A Word document: per (heading, paragraphs) a Heading 1 and its paragraphs, then the table if any."""
    document = python_docx.Document()
    for heading, paragraphs in sections:
        document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    return _saved(document)


def pptx(slides: Sequence[tuple[str, str]]) -> bytes:
    """A presentation with a "Title and Content" slide per (title, body)."""
    presentation = python_pptx.Presentation()
    for title, body in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    return _saved(presentation)


def xlsx(sheets: dict[str, Sequence[Sequence[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    return _saved(workbook)


def _saved(document) -> bytes:
    """The saved document, re-zipped with fixed timestamps so the same content gives the same bytes."""
    saved = io.BytesIO()
    document.save(saved)
    buffer = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(buffer, "w") as target:
        for member in source.infolist():
            target.writestr(zipfile.ZipInfo(member.filename), source.read(member), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@lru_cache
def zip_bomb(expanded: int = 300 * MiB) -> bytes:
    """A .docx-looking zip whose main part inflates to `expanded` bytes of zeros (1/230 of that on disk)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            block = bytes(MiB)
            for _ in range(expanded // MiB):
                member.write(block)
    return buffer.getvalue()


def html(title: str, sections: Sequence[tuple[str, Sequence[str]]], charset: str = "utf-8") -> bytes:
    """A page with an <h2> and <p>s per section, noise that must not be extracted, in `charset`."""
    body = "".join(
        f"<h2>{heading}</h2>" + "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
        for heading, paragraphs in sections
    )
    page = (
        f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title>'
        "<style>p { color: red }</style><script>var tracking = 'NOISE';</script></head>"
        f"<body><noscript>NOISE</noscript>{body}<template>NOISE</template></body></html>"
    )
    return page.encode(charset)


def eml(
    subject: str, body: str, html_body: str | None = None, attachment: tuple[str, bytes] | None = None
) -> bytes:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "Ada Lovelace <ada@example.org>"
    message["To"] = "Charles Babbage <charles@example.org>"
    message["Date"] = "Mon, 02 Sep 2024 10:00:00 +0000"
    message.set_content(body)
    if html_body is not None:
        message.add_alternative(html_body, subtype="html")
    if attachment is not None:
        name, data = attachment
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()


def csv_bytes(rows: Sequence[Sequence[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


def utf16_text(text: str) -> bytes:
    return text.encode("utf-16")  # with its byte order mark


def empty() -> bytes:
    return b""


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def ole_file(streams: Sequence[str]) -> bytes:
    """A minimal OLE2 compound file holding empty streams of these names (at most three): the container
    of legacy .doc/.xls/.ppt/.msg files and of password-protected .docx/.xlsx/.pptx."""
    free, end_of_chain, fat_sector, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    header = struct.pack(
        "<8s16sHHHHH6xIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", bytes(16), 0x3E, 3, 0xFFFE, 9, 6,
        0, 1, 1, 0, 4096, end_of_chain, 0, end_of_chain, 0,
    ) + struct.pack("<109I", 0, *[free] * 108)
    fat = struct.pack("<128I", fat_sector, end_of_chain, *[free] * 126)
    names = ["Root Entry", *streams]
    directory = b"".join(
        _ole_entry(name, kind=5 if number == 0 else 2,
                   child=1 if number == 0 and streams else no_stream,
                   sibling=number + 1 if 0 < number < len(streams) else no_stream)
        for number, name in enumerate(names)
    )
    return header + fat + directory.ljust(512, b"\x00")


def _ole_entry(name: str, kind: int, child: int, sibling: int) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le")
    no_stream, end_of_chain = 0xFFFFFFFF, 0xFFFFFFFE
    return struct.pack(
        "<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1, no_stream, sibling, child,
        bytes(16), 0, 0, 0, end_of_chain, 0,
    )


def legacy_doc() -> bytes:
    return ole_file(["WordDocument", "1Table"])


def encrypted_office() -> bytes:
    return ole_file(["EncryptionInfo", "EncryptedPackage"])


_WORDS = (
    "ledger invoice quarterly revenue forecast supplier contract audit policy onboarding warehouse "
    "shipment compliance budget analysis customer renewal pricing margin inventory logistics training "
    "security incident review roadmap milestone vendor procurement payroll benefit travel expense "
    "report meeting summary decision action owner deadline risk mitigation approval region market"
).split()
_MIXED_KINDS = ("pdf", "docx", "txt", "md", "csv", "html")
_PAGE_CHARACTERS = 1500


def mixed_set(n: int, seed: int) -> Iterator[tuple[str, bytes]]:
    """`n` small documents (1-10 pages) in mixed formats, the same for a seed, each with its own content."""
    rnd = random.Random(seed)
    for number in range(n):
        kind = rnd.choice(_MIXED_KINDS)
        tag = f"Document {seed}-{number}"
        count = rnd.randint(1, 10)
        pages = prose_pages(tag, count, rnd)
        yield f"doc-{seed}-{number:05d}.{kind}", _render(kind, tag, pages)


def prose_pages(tag: str, count: int, rnd: random.Random) -> list[str]:
    """`count` pages of about 1,500 characters of made-up business prose, each headed by `tag` and its number."""
    return [f"{tag}, page {page}. {_prose(rnd, _PAGE_CHARACTERS)}" for page in range(1, count + 1)]


def _render(kind: str, tag: str, pages: list[str]) -> bytes:
    headed = [(f"{tag}: part {number}", [page]) for number, page in enumerate(pages, start=1)]
    if kind == "pdf":
        return pdf(pages)
    if kind == "docx":
        return docx(headed)
    if kind == "md":
        return "\n\n".join(f"# {heading}\n\n{body[0]}" for heading, body in headed).encode()
    if kind == "csv":
        rows = [["row", "topic", "note"]] + [
            [str(number), sentence.split()[0], sentence]
            for number, sentence in enumerate(". ".join(pages).split(". "), start=1)
        ]
        return csv_bytes(rows)
    if kind == "html":
        return html(tag, headed)
    return "\n\n".join(pages).encode()


def _prose(rnd: random.Random, characters: int) -> str:
    sentences, length = [], 0
    while length < characters:
        sentence = " ".join(rnd.choices(_WORDS, k=rnd.randint(6, 16))).capitalize() + "."
        sentences.append(sentence)
        length += len(sentence) + 1
    return " ".join(sentences)
