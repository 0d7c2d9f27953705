"""Pictures inside Office documents that carry their only text are read by OCR, on the OCR workers: documents
these tests write holding a picture rendered from known text. Needs Debian's tesseract (`make test` installs it)."""

import io
import shutil
import zipfile

import docx
import pptx
import pytest
from pptx.util import Inches

from docintake.ingestor.adapters.parsers.formats import parse_file
from docintake.ingestor.adapters.parsers.ocr import OcrOptions
from docintake.ingestor.domain import failures
from docintake.ingestor.domain.failures import IngestError, NeedsOcr
from tests.unit.ingestor import scans
from tests.unit.ingestor.test_long_tail import _opendocument

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")

INVOICE_PICTURE = scans.text_image(scans.INVOICE, size=(1800, 400))
RECEIPT_PICTURE = scans.text_image("Receipt 815 paid in full.", size=(1800, 400))  # another: Word keeps one copy


def png(image) -> bytes:
    return scans.encoded(image, "PNG")


def docx_of_pictures(*images, text: str = "") -> bytes:
    document = docx.Document()
    if text:
        document.add_paragraph(text)
    for image in images:
        document.add_picture(io.BytesIO(png(image)), width=docx.shared.Inches(6))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pptx_of_picture(image) -> bytes:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[6])  # blank: no title, no placeholder
    slide.shapes.add_picture(io.BytesIO(png(image)), Inches(0.5), Inches(1), width=Inches(9))
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def odt_of_picture(image) -> bytes:
    body = (
        '<office:text><text:p><draw:frame svg:width="15cm" svg:height="3cm" '
        'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
        'xmlns:xlink="http://www.w3.org/1999/xlink"><draw:image xlink:href="Pictures/scan.png"/></draw:frame>'
        "</text:p></office:text>"
    )
    package = io.BytesIO(_opendocument("text", body))
    with zipfile.ZipFile(package, "a") as archive:
        archive.writestr("Pictures/scan.png", png(image))
    return package.getvalue()


def parse(tmp_path, name: str, data: bytes, **ocr):
    path = tmp_path / name
    path.write_bytes(data)
    return parse_file(path, name, ocr=OcrOptions(**ocr))


@pytest.mark.parametrize(
    ("name", "write"),
    [("invoice.docx", docx_of_pictures), ("invoice.pptx", pptx_of_picture), ("invoice.odt", odt_of_picture)],
)
def test_a_document_whose_only_text_is_in_a_picture_is_read_by_ocr(tmp_path, name, write):
    document = parse(tmp_path, name, write(INVOICE_PICTURE))

    assert (document.extraction, document.ocr_pages) == ("ocr", 1)
    assert scans.recall(scans.INVOICE, "\n".join(section.text for section in document.sections)) >= 0.95


def test_the_text_pass_hands_a_document_of_pictures_to_the_ocr_workers_and_ocrs_none(tmp_path, monkeypatch):
    def no_ocr(*_):
        raise AssertionError("the text pass OCR'd a picture")

    monkeypatch.setattr("docintake.ingestor.adapters.parsers.ocr.Ocr._start", no_ocr)
    with pytest.raises(NeedsOcr) as handed_on:
        parse(tmp_path, "invoices.docx", docx_of_pictures(INVOICE_PICTURE, RECEIPT_PICTURE), deferred=True)

    assert handed_on.value.pages == 2


def test_a_document_with_text_of_its_own_is_not_ocrd_for_its_pictures(tmp_path):
    document = parse(tmp_path, "letter.docx", docx_of_pictures(INVOICE_PICTURE, text="Dear customer,"),
                     deferred=True)  # would raise NeedsOcr had it a picture to OCR

    assert document.extraction == "native"
    assert "Dear customer," in document.sections[0].text


def test_a_document_whose_pictures_show_no_text_fails_saying_so(tmp_path):
    blank = scans.text_image("", size=(800, 400))

    with pytest.raises(IngestError) as caught:
        parse(tmp_path, "photos.docx", docx_of_pictures(blank))

    assert (caught.value.code, caught.value.message) == (
        failures.NO_TEXT, "No text: the document has no text of its own, and OCR found none in its 1 pictures"
    )


def test_a_document_with_more_pictures_than_the_page_cap_fails_before_any_is_ocrd(tmp_path):
    with pytest.raises(IngestError) as caught:
        parse(tmp_path, "album.docx", docx_of_pictures(INVOICE_PICTURE, RECEIPT_PICTURE), max_pages=1)

    assert caught.value.code == failures.OCR_PAGE_LIMIT
