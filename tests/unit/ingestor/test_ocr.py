"""OCR of scanned PDFs, of the textless pages of mixed PDFs and of images, on scans the tests render themselves from
known text; its bounds (pages per document, time per page) and its failures. Needs Debian's tesseract with
English, which `make test` installs (deploy/native/servers.py)."""

import asyncio
import io
import os
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from pydantic import ValidationError

from docintake.contracts.events import DocumentIngested, DocumentIngestedData
from docintake.ingestor.adapters.parser_pool import ParserPool
from docintake.ingestor.adapters.parsers import ocr as ocr_module
from docintake.ingestor.adapters.parsers.detect import detect_type
from docintake.ingestor.adapters.parsers.formats import parse_file
from docintake.ingestor.adapters.parsers.ocr import Ocr, OcrOptions, debian_package
from docintake.ingestor.domain import failures
from docintake.ingestor.domain.document import ParsedDocument, Section
from docintake.ingestor.domain.failures import IngestError
from docintake.ingestor.service_layer.ingest import ingest_document
from docintake.ingestor.service_layer.ports import Dependencies
from docintake.ingestor.settings import IngestorSettings
from tests.unit.ingestor import scans
from tests.unit.ingestor.fakes import FakeGraph, FakeStorage, parser, queued

pytestmark = pytest.mark.skipif(
    shutil.which("tesseract") is None,
    reason="tesseract is not installed; `make test` installs it (python -m deploy.native.servers start)",
)


@pytest.fixture
def write(tmp_path):
    def write(name: str, data: bytes):
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write


@pytest.fixture
def ocr_calls(monkeypatch):
    """The page numbers OCR'd, in order."""
    pages: list[int] = []
    text_of = Ocr._text

    def counted(self, tesseract, png, page):
        pages.append(page)
        return text_of(self, tesseract, png, page)

    monkeypatch.setattr(Ocr, "_text", counted)
    return pages


def text(document: ParsedDocument) -> str:
    return "\n".join(section.text for section in document.sections)


def failure(path, **ocr) -> IngestError:
    with pytest.raises(IngestError) as caught:
        parse_file(path, path.name, ocr=OcrOptions(**ocr))
    return caught.value


def test_a_scan_rendered_from_known_text_at_300_dpi_is_read_with_95_percent_word_recall(write):
    path = write("minutes.pdf", scans.scanned_pdf([scans.text_image(scans.MINUTES)]))

    document = parse_file(path, path.name)

    assert document.detected_type == "pdf" and document.pages == 1
    assert (document.extraction, document.ocr_pages) == ("ocr", 1)
    assert scans.recall(scans.MINUTES, text(document)) >= 0.95
    assert [(section.page, section.ocr) for section in document.sections] == [(1, True)]


def test_a_mixed_pdf_ocrs_only_its_page_without_a_text_layer(write, ocr_calls):
    typed = "Quarterly report of the harbour committee, page one, typed."
    path = write("report.pdf", scans.mixed_pdf(typed, scans.text_image(scans.INVOICE)))

    document = parse_file(path, path.name)

    assert ocr_calls == [2]
    assert (document.extraction, document.ocr_pages, document.pages) == ("mixed", 1, 2)
    first, second = document.sections
    assert (first.page, first.ocr, first.text) == (1, False, typed)
    assert (second.page, second.ocr) == (2, True)
    assert scans.recall(scans.INVOICE, second.text) >= 0.95


def test_a_pdf_with_a_text_layer_is_not_ocrd(write, ocr_calls):
    from tests.support import documents

    document = parse_file(write("typed.pdf", documents.pdf(["One", "Two"])), "typed.pdf")

    assert ocr_calls == [] and (document.extraction, document.ocr_pages) == ("native", 0)


@pytest.mark.parametrize(
    ("pillow_format", "kind", "options"),
    [
        ("PNG", "png", {}),
        ("JPEG", "jpeg", {"quality": 85}),
        ("TIFF", "tiff", {"compression": "tiff_lzw"}),
        ("BMP", "bmp", {}),
        ("WEBP", "webp", {"quality": 90}),
        ("GIF", "gif", {}),
    ],
)
def test_images_are_detected_by_content_and_read_by_ocr(write, pillow_format, kind, options):
    data = scans.encoded(scans.text_image(scans.INVOICE, size=(2480, 600)), pillow_format, **options)
    path = write("upload.bin", data)  # the name says nothing: the content decides

    document = parse_file(path, "upload.bin")

    assert document.detected_type == kind
    assert (document.extraction, document.ocr_pages, document.pages) == ("ocr", 1, 1)
    assert scans.recall(scans.INVOICE, text(document)) >= 0.95


def test_each_page_of_a_multipage_tiff_is_ocrd_as_a_page(write):
    pages = [scans.text_image(scans.INVOICE, size=(2480, 600)), scans.text_image(scans.MINUTES, size=(2480, 1200))]

    document = parse_file(write("fax.tiff", scans.multipage_tiff(pages)), "fax.tiff")

    assert (document.pages, document.ocr_pages) == (2, 2)
    assert [section.page for section in document.sections] == [1, 2]
    assert scans.recall(scans.MINUTES, document.sections[1].text) >= 0.95


def test_a_transparent_png_is_read_on_white(write):
    glyphs = scans.text_image(scans.INVOICE, size=(2480, 600))
    transparent = Image.new("RGBA", glyphs.size, (0, 0, 0, 0))
    transparent.putalpha(Image.eval(glyphs, lambda value: 255 - value))  # black text, see-through paper

    document = parse_file(write("logo.png", scans.encoded(transparent, "PNG")), "logo.png")

    assert scans.recall(scans.INVOICE, text(document)) >= 0.95


def test_dark_text_on_a_grey_box_is_read_with_the_text_around_it(write):
    page = scans.shaded_image(scans.MINUTES, scans.INVOICE)  # tesseract's default threshold reads 20 % of INVOICE

    document = parse_file(write("notice.png", scans.encoded(page, "PNG")), "notice.png")

    assert scans.recall(scans.INVOICE, text(document)) >= 0.95
    assert scans.recall(scans.MINUTES, text(document)) >= 0.95


@pytest.mark.parametrize(("page", "clean"), [
    (scans.text_image(scans.MINUTES), True),
    (scans.shaded_image(scans.MINUTES, scans.INVOICE), False),
    (Image.effect_noise((1240, 1754), 40), False),  # a scan's paper tone and speckle
])
def test_only_a_page_of_ink_on_white_skips_the_local_threshold(page, clean):
    command, _, _ = Ocr(OcrOptions())._prepare(iter([(page, 300, 1)]))

    assert (ocr_module.SAUVOLA[-1] not in command) is clean


def test_a_picture_without_text_fails_as_having_none(write):
    blank = scans.encoded(Image.new("RGB", (800, 600), "white"), "PNG")

    error = failure(write("blank.png", blank))

    assert (error.code, error.message) == (failures.NO_TEXT, "No text: OCR found no text in the image")


def test_a_scan_over_the_page_cap_fails_before_any_page_is_ocrd(write, ocr_calls):
    path = write("long.pdf", scans.scanned_pdf([scans.text_image(scans.INVOICE, size=(1240, 400))] * 3))

    error = failure(path, max_pages=2)

    assert error.code == failures.OCR_PAGE_LIMIT
    assert error.message == (
        "The document needs OCR on 3 pages, more than the 2 one document may have OCR'd "
        "(DOCINTAKE_OCR_MAX_PAGES); split it or raise the limit"
    )
    assert ocr_calls == []


def test_the_page_cap_holds_across_the_files_of_an_archive(write):
    image = scans.encoded(scans.text_image(scans.INVOICE, size=(1240, 400)), "PNG")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.png", image)
        archive.writestr("b.png", image)

    error = failure(write("scans.zip", buffer.getvalue()), max_pages=1)

    assert error.code == failures.OCR_PAGE_LIMIT and "needs OCR on 2 pages" in error.message


def test_the_files_of_an_archive_are_ocrd_under_their_paths(write):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("scans/invoice.png", scans.encoded(scans.text_image(scans.INVOICE, size=(2480, 600)), "PNG"))
        archive.writestr("readme.txt", "Scans of the invoices.")

    document = parse_file(write("scans.zip", buffer.getvalue()), "scans.zip")

    assert [(section.heading, section.ocr) for section in document.sections] == [
        ("scans/invoice.png", True), ("readme.txt", False)
    ]
    assert (document.extraction, document.ocr_pages) == ("mixed", 1)


def test_a_page_whose_ocr_takes_too_long_fails_with_the_limit_named(write):
    path = write("minutes.png", scans.encoded(scans.text_image(scans.MINUTES), "PNG"))

    error = failure(path, page_timeout_seconds=0.05)

    assert error.code == failures.OCR_TIMEOUT
    assert error.message == (
        "OCR of page 1 took longer than 0.05 s and was stopped (DOCINTAKE_OCR_PAGE_TIMEOUT_SECONDS)"
    )


def test_tesseract_runs_below_the_process_that_starts_it(write, monkeypatch, tmp_path):
    niceness = tmp_path / "tesseract"  # prints its niceness as the page's text
    niceness.write_text("#!/bin/sh\ncat > /dev/null\nnice\n")
    niceness.chmod(0o755)
    monkeypatch.setattr(ocr_module, "TESSERACT", str(niceness))

    document = parse_file(write("invoice.png", scans.encoded(scans.text_image(scans.INVOICE), "PNG")), "invoice.png")

    assert int(text(document)) == os.nice(0) + ocr_module.OCR_NICENESS


@pytest.mark.skipif(sys.platform != "linux", reason="threads have a niceness of their own on Linux only")
def test_the_pages_after_the_first_are_prepared_as_low_as_tesseract_runs(write, monkeypatch):
    prepared_at: list[int] = []
    encode = ocr_module._png
    monkeypatch.setattr(ocr_module, "_png", lambda image: prepared_at.append(os.nice(0)) or encode(image))
    pages = [scans.text_image(scans.INVOICE, size=(1240, 400))] * 3

    parse_file(write("fax.tiff", scans.multipage_tiff(pages)), "fax.tiff")

    assert prepared_at == [os.nice(0)] + [os.nice(0) + ocr_module.OCR_NICENESS] * 2


def test_a_language_that_is_not_installed_fails_naming_its_debian_package(write):
    path = write("invoice.png", scans.encoded(scans.text_image(scans.INVOICE, size=(1240, 400)), "PNG"))

    error = failure(path, languages="eng+xyz")

    assert error.code == failures.OCR_FAILED and error.retryable
    assert "xyz is not installed" in error.message and "tesseract-ocr-xyz" in error.message


def test_without_tesseract_ocr_fails_as_not_available(write, monkeypatch):
    monkeypatch.setattr(ocr_module, "TESSERACT", "tesseract-that-is-not-there")
    path = write("invoice.png", scans.encoded(scans.text_image(scans.INVOICE, size=(1240, 400)), "PNG"))

    error = failure(path)

    assert error.code == failures.OCR_FAILED and error.retryable
    assert "tesseract is not installed" in error.message


def test_languages_are_a_setting_checked_at_start(monkeypatch):
    monkeypatch.setenv("DOCINTAKE_OCR_LANGUAGES", "eng, deu")
    assert IngestorSettings().ocr.codes == ("eng", "deu")
    assert IngestorSettings().ocr == OcrOptions("eng, deu", 60.0, 50)

    monkeypatch.setenv("DOCINTAKE_OCR_LANGUAGES", "eng;rm -rf")
    with pytest.raises(ValidationError, match="no tesseract language code"):
        IngestorSettings()


def test_debian_packages_of_languages():
    assert [debian_package(code) for code in ("eng", "deu", "chi_sim")] == [
        "tesseract-ocr-eng", "tesseract-ocr-deu", "tesseract-ocr-chi-sim"
    ]


def test_a_text_that_starts_like_a_bitmap_is_text(write):
    path = write("minutes.txt", b"BM is how the minutes call the board meeting.\n" * 3)

    assert detect_type(path, "minutes.txt") == "text"


def test_a_riff_file_that_is_no_webp_is_not_an_image(write):
    with pytest.raises(IngestError) as caught:
        detect_type(write("sound.wav", b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(32)), "sound.wav")

    assert caught.value.code == failures.UNSUPPORTED_FORMAT


async def test_ocr_runs_in_the_parser_pool(write):
    path = write("invoice.png", scans.encoded(scans.text_image(scans.INVOICE, size=(2480, 600)), "PNG"))
    pool = ParserPool(1, timeout_seconds=60, max_expanded_bytes=1 << 20, ocr=OcrOptions(max_pages=1))
    try:
        document = await pool.parse(path, "invoice.png")
        two_pages = write("fax.tiff", scans.multipage_tiff([scans.text_image("One", size=(400, 200))] * 2))
        with pytest.raises(IngestError) as caught:
            await pool.parse(two_pages, "fax.tiff")
    finally:
        await asyncio.to_thread(pool.close)

    assert (document.extraction, document.ocr_pages) == ("ocr", 1)
    assert caught.value.code == failures.OCR_PAGE_LIMIT  # the pool's workers got the settings' bounds


async def test_the_ingested_event_says_how_the_text_was_got(tmp_path):
    parsed = ParsedDocument("pdf", (Section("Typed page.", page=1), Section("Scanned page.", page=2, ocr=True)), 2)
    deps = Dependencies(storage=FakeStorage(), graph=FakeGraph(), parse=parser(parsed), work_dir=tmp_path,
                        chunk_size=500, chunk_overlap=50)

    result = await ingest_document(queued(), deps)

    [outcome] = [event for event in (result if isinstance(result, list) else [result])
                 if isinstance(event, DocumentIngested)]
    assert (outcome.data.extraction, outcome.data.ocr_pages) == ("mixed", 1)


def test_an_ingested_event_from_before_ocr_reads_as_native():
    data = DocumentIngestedData.model_validate(
        {"filename": "a.pdf", "sha256": "0" * 64, "detected_type": "pdf", "pages": 1, "chunks": 1, "characters": 9}
    )

    assert (data.extraction, data.ocr_pages) == ("native", 0)


CORPUS = Path(os.environ.get("DOCINTAKE_CORPUS_DIR", Path(__file__).resolve().parents[3].parent / "shared" / "corpus"))


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus of real files at {CORPUS} (set DOCINTAKE_CORPUS_DIR)")
@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("pdf/loremipsum-flat.pdf", ["Lorem ipsum dolor sit amet, consectetur adipiscing elit"]),
        ("pdf/single_table.pdf", ["chunks per document"]),
        ("pdf/table-multi-row-column-cells.pdf", ["Disability", "Low Vision", "Mobility 3 3 0"]),
    ],
)
def test_the_corpus_scans_are_read_by_ocr(name, words):
    document = parse_file(CORPUS / name, Path(name).name)

    assert (document.extraction, document.ocr_pages) == ("ocr", 1)
    for expected in words:
        assert expected in text(document)


def test_the_servers_setup_installs_tesseract_and_each_configured_language(monkeypatch):
    from deploy.native import servers

    installed: list[tuple[str, ...]] = []
    monkeypatch.setattr(servers, "apt_install", lambda *packages: installed.append(packages))
    monkeypatch.setenv("DOCINTAKE_OCR_LANGUAGES", "eng+chi_sim")

    monkeypatch.setattr(ocr_module, "missing_languages", lambda options: None)  # a fresh machine
    servers.install_tesseract()
    monkeypatch.setattr(ocr_module, "missing_languages", lambda options: ["chi_sim"])  # a language added later
    servers.install_tesseract()
    monkeypatch.setattr(ocr_module, "missing_languages", lambda options: [])  # all there: apt is not asked
    servers.install_tesseract()

    assert installed == [("tesseract-ocr", "tesseract-ocr-eng", "tesseract-ocr-chi-sim"), ("tesseract-ocr-chi-sim",)]
