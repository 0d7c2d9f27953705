"""Scans the OCR tests make themselves: known text drawn into an image with Pillow (its own bundled font, so no
system font is needed), saved as PNG, JPEG, TIFF and the rest, or as the only content of a PDF page."""

import io
import re
import textwrap
from collections import Counter
from collections.abc import Sequence

import pypdfium2
from PIL import Image, ImageDraw, ImageFont

from tests.support import documents

DPI = 300
A4_AT_300_DPI = (2480, 3508)

MINUTES = (
    "The harbour committee met on Tuesday to review the winter maintenance schedule. Repairs to the northern "
    "breakwater will begin in March, once the storms have passed. The ferry timetable stays unchanged until "
    "the new pontoon is delivered. Members approved a budget of forty thousand pounds for dredging the inner "
    "basin and asked the treasurer to publish quarterly accounts."
)
INVOICE = "Invoice number 4711 is due within thirty days. Please quote the reference on every payment."


def text_image(text: str, size: tuple[int, int] = A4_AT_300_DPI, font_size: int = 42) -> Image.Image:
    """A white page with the text in black, wrapped, as a 300 dpi scan of 10-point type would show it."""
    image = Image.new("L", size, 255)
    _write(image, text, 150, font_size)
    return image


def shaded_image(plain: str, shaded: str, grey: int = 130) -> Image.Image:
    """A page with `plain` in black on white and below it `shaded` in black on a grey box, as a table's header row
    or a stamp shows."""
    image = text_image(plain, size=(2480, 1400))
    ImageDraw.Draw(image).rectangle((100, 700, 2380, 1300), fill=grey)
    _write(image, shaded, 750)
    return image


def _write(image: Image.Image, text: str, top: int, font_size: int = 42) -> None:
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=font_size)
    for number, line in enumerate(textwrap.wrap(text, width=max(10, (image.width - 300) // (font_size // 2 + 2)))):
        draw.text((150, top + number * int(font_size * 1.6)), line, fill=0, font=font)


def encoded(image: Image.Image, pillow_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, pillow_format, dpi=(DPI, DPI), **options)
    return buffer.getvalue()


def multipage_tiff(pages: Sequence[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=list(pages[1:]), dpi=(DPI, DPI))
    return buffer.getvalue()


def scanned_pdf(pages: Sequence[Image.Image]) -> bytes:
    """A PDF of page images only, as a scanner writes it: no text layer (Pillow's PDF writer)."""
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", resolution=DPI, save_all=True, append_images=list(pages[1:]))
    return buffer.getvalue()


def mixed_pdf(typed: str, scanned: Image.Image) -> bytes:
    """Page 1 with a text layer, page 2 a scan: what a document with a scanned signature page looks like."""
    combined = pypdfium2.PdfDocument.new()
    for part in (documents.pdf([typed]), scanned_pdf([scanned])):
        source = pypdfium2.PdfDocument(part)
        combined.import_pages(source)
        source.close()
    buffer = io.BytesIO()
    combined.save(buffer)
    combined.close()
    return buffer.getvalue()


def words(text: str) -> Counter[str]:
    return Counter(word.lower() for word in re.findall(r"\w+", text))


def recall(expected: str, found: str) -> float:
    """The share of the expected words (with repeats) found."""
    reference = words(expected)
    return sum((reference & words(found)).values()) / sum(reference.values())
