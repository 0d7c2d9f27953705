"""The text pass hands what needs OCR to the OCR workers rather than OCR it; the OCR pass reads it within its own
bounds and tells how far it got. Scans rendered from known text (tests.unit.ingestor.scans); the OCR pass needs
Debian's tesseract, which `make test` installs."""

import asyncio
import io
import os
import pickle
import shutil
import zipfile

import pytest

from docintake.contracts.events import DocumentIngested, DocumentProgressed, OcrRequested
from docintake.ingestor.adapters.parser_pool import ParserPool
from docintake.ingestor.adapters.parsers.formats import parse_file
from docintake.ingestor.adapters.parsers.ocr import Ocr, OcrOptions
from docintake.ingestor.domain import failures
from docintake.ingestor.domain.document import ParsedDocument, Section
from docintake.ingestor.domain.failures import IngestError, NeedsOcr
from docintake.ingestor.service_layer.ingest import ingest_document
from docintake.ingestor.service_layer.ports import Dependencies
from docintake.ingestor.settings import IngestorSettings
from tests.support import documents
from tests.unit.ingestor import scans
from tests.unit.ingestor.fakes import FakeGraph, FakeStorage, parser, queued

TEXT_PASS = OcrOptions(deferred=True, max_pages=5)
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")


@pytest.fixture
def ocr_calls(monkeypatch):
    started: list[list[str]] = []

    def start(self, command):
        started.append(command)
        raise AssertionError("the text pass started tesseract")

    monkeypatch.setattr(Ocr, "_start", start)
    return started


def small_scan(pages: int) -> bytes:
    return scans.scanned_pdf([scans.text_image(scans.INVOICE, size=(1240, 400))] * pages)


def test_the_text_pass_hands_a_scan_on_with_its_pages_and_ocrs_none(write, ocr_calls):
    with pytest.raises(NeedsOcr) as caught:
        parse_file(write("scan.pdf", small_scan(3)), "scan.pdf", ocr=TEXT_PASS)

    assert caught.value.pages == 3 and ocr_calls == []


def test_the_text_pass_hands_on_an_image_and_an_archive_holding_one(write, ocr_calls):
    image = scans.encoded(scans.text_image(scans.INVOICE, size=(1240, 400)), "PNG")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "Scans of the invoices.")
        archive.writestr("invoice.png", image)

    for name, data in (("invoice.png", image), ("scans.zip", buffer.getvalue())):
        with pytest.raises(NeedsOcr):
            parse_file(write(name, data), name, ocr=TEXT_PASS)
    assert ocr_calls == []


def test_the_text_pass_reads_text_as_before_and_fails_a_scan_over_the_cap_at_once(write, ocr_calls):
    typed = parse_file(write("typed.pdf", documents.pdf(["One", "Two"])), "typed.pdf", ocr=TEXT_PASS)
    assert (typed.extraction, typed.pages) == ("native", 2)

    with pytest.raises(IngestError) as caught:
        parse_file(write("long.pdf", small_scan(6)), "long.pdf", ocr=TEXT_PASS)
    assert caught.value.code == failures.OCR_PAGE_LIMIT and "needs OCR on 6 pages, more than the 5" in str(caught.value)
    assert ocr_calls == []


def test_needs_ocr_crosses_the_process_pool():
    again = pickle.loads(pickle.dumps(NeedsOcr(7)))
    assert isinstance(again, NeedsOcr) and again.pages == 7 and again.code == failures.NEEDS_OCR


def test_the_ocr_workers_have_their_own_bounds_and_role(monkeypatch):
    monkeypatch.setenv("DOCINTAKE_INGESTOR_ROLE", "ocr")
    monkeypatch.setenv("DOCINTAKE_OCR_WORKERS", "3")
    settings = IngestorSettings()
    assert (settings.runs_text, settings.runs_ocr, settings.effective_ocr_prefetch) == (False, True, 3)
    # a document's OCR pass is bounded by its pages' budgets, not by the text pass's parse timeout alone
    assert settings.ocr_parse_timeout_seconds == settings.parse_timeout_seconds + 50 * 60
    assert (IngestorSettings(ingestor_role="all").runs_text, IngestorSettings(ingestor_role="text").runs_ocr) == (
        True, False)


async def test_the_text_pass_publishes_an_ocr_request_for_the_ocr_workers(tmp_path):
    deps = Dependencies(storage=FakeStorage(), graph=FakeGraph(), parse=parser(NeedsOcr(12)), work_dir=tmp_path)
    event = queued()

    [request] = await ingest_document(event, deps)

    assert isinstance(request, OcrRequested)
    assert (request.document_id, request.data.document, request.data.ocr_pages) == (
        event.document_id, event.data.document, 12)
    assert request.as_queued().data == event.data and deps.graph.written == []
    [again] = await ingest_document(event, deps)
    assert again.event_id == request.event_id  # a redelivery hands it on under the same id


async def test_the_ocr_pass_reads_the_document_and_publishes_its_progress(tmp_path):
    published = []
    parsed = ParsedDocument("pdf", (Section("Scanned page one.", page=1, ocr=True),
                                    Section("Scanned page two.", page=2, ocr=True)), 2)

    async def ocr_parse(path, filename, progress):
        await progress(1, 2)
        await progress(2, 2)
        return parsed

    async def announce(event):
        published.append(event)

    deps = Dependencies(storage=FakeStorage(), graph=FakeGraph(), parse=parser(NeedsOcr(2)), work_dir=tmp_path,
                        ocr_parse=ocr_parse, announce=announce)
    event = queued()

    [outcome] = await ingest_document(event, deps, ocr=True)

    assert isinstance(outcome, DocumentIngested)
    assert (outcome.data.extraction, outcome.data.ocr_pages) == ("ocr", 2)
    assert [(p.data.pages_done, p.data.pages_total) for p in published] == [(1, 2), (2, 2)]
    assert all(isinstance(p, DocumentProgressed) and p.document_id == event.document_id for p in published)


@needs_tesseract
async def test_the_ocr_pool_tells_its_progress_page_by_page(write):
    path = write("scan.pdf", scans.scanned_pdf([scans.text_image(scans.INVOICE, size=(1240, 400))] * 3))
    told: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        told.append((done, total))

    pool = ParserPool(1, timeout_seconds=120, max_expanded_bytes=1 << 20, ocr=OcrOptions(max_pages=5))
    try:
        document = await pool.parse(path, "scan.pdf", progress, 0.02)
    finally:
        await asyncio.to_thread(pool.close)

    assert (document.extraction, document.ocr_pages) == ("ocr", 3)
    assert told == sorted(set(told)) and told[-1][1] == 3 and len(told) >= 2  # forward, page by page
    assert all(total == 3 for _, total in told)


async def test_an_ocr_job_of_a_batch_cancelled_meanwhile_stops_at_its_next_report(tmp_path):
    published, reached = [], []

    async def ocr_parse(path, filename, progress):
        await progress(1, 300)
        await deps.graph.mark_cancelled(str(event.batch_id))
        await progress(2, 300)
        reached.append("the end")  # never: the report stopped the pass
        raise AssertionError("not stopped")

    async def announce(event):
        published.append(event)

    deps = Dependencies(storage=FakeStorage(), graph=FakeGraph(), parse=parser(NeedsOcr(300)), work_dir=tmp_path,
                        ocr_parse=ocr_parse, announce=announce)
    event = queued()

    assert await ingest_document(event, deps, ocr=True) == []
    assert [p.data.pages_done for p in published] == [1] and reached == [] and deps.graph.written == []


@needs_tesseract
async def test_a_report_that_stops_the_ocr_pass_ends_its_process_and_the_pool_goes_on(write):
    path = write("scan.pdf", scans.scanned_pdf([scans.text_image(scans.MINUTES)] * 4))

    class Stop(Exception):
        pass

    async def stop(done: int, total: int) -> None:
        raise Stop

    pool = ParserPool(1, timeout_seconds=120, max_expanded_bytes=1 << 20, ocr=OcrOptions(max_pages=5))
    def worker() -> "asyncio.Future[int]":
        return asyncio.wrap_future(pool._working_pool().schedule(os.getpid))

    try:
        before = await worker()
        with pytest.raises(Stop):
            await pool.parse(path, "scan.pdf", stop, 0.02)
        typed = await pool.parse(write("typed.pdf", documents.pdf(["One"])), "typed.pdf")
        after = await worker()
    finally:
        await asyncio.to_thread(pool.close)

    assert typed.extraction == "native"
    assert after != before  # the worker that OCR'd was stopped and replaced
