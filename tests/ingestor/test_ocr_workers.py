"""Ingestors in roles against real RabbitMQ, MinIO and Neo4j: a text ingestor hands scans on to the OCR queue, and
two OCR ingestors (one OCR worker each, as on two machines) share that queue, each OCR'ing one of two scans at the
same time. Needs Debian's tesseract (`make test` installs it)."""

import json
import shutil
from uuid import uuid4

import pytest

from deploy.native.services import ServiceProcess
from docintake.platform.messaging import publish_all
from tests.support.broker import listen
from tests.support.http import free_port
from tests.support.ingest import stage
from tests.unit.ingestor import scans

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")

PAGES = 5


def ingestor_in_role(role: str, name: str, run_dir) -> ServiceProcess:
    port = free_port()
    return ServiceProcess(name, "docintake-ingestor", run_dir, env={
        "DOCINTAKE_INGESTOR_ROLE": role, "DOCINTAKE_WORKERS": "1", "DOCINTAKE_OCR_WORKERS": "1",
        "DOCINTAKE_OCR_PROGRESS_INTERVAL_SECONDS": "0.2", "DOCINTAKE_INGESTOR_METRICS_PORT": str(port),
    }, ready_url=f"http://127.0.0.1:{port}/readyz")


@pytest.fixture(scope="module")
def ingestors(settings, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("roles")
    processes = [ingestor_in_role("text", "text", run_dir), ingestor_in_role("ocr", "ocr-1", run_dir),
                 ingestor_in_role("ocr", "ocr-2", run_dir)]
    for process in processes:
        process.start()
    yield {process.name: process for process in processes}
    for process in processes:
        process.stop()


def logged(process: ServiceProcess, message: str) -> set[str]:
    """The document ids of the process's log lines with this message."""
    found = set()
    for line in process.log_file.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("message") == message and record.get("document_id"):
            found.add(record["document_id"])
    return found


async def test_two_ocr_workers_share_the_ocr_queue_and_the_text_worker_ocrs_nothing(ingestors, broker, store,
                                                                                      settings):
    batch_id = uuid4()
    queued = [await stage(store, scans.scanned_pdf([scans.text_image(f"Scan {n}, page {page}. {scans.MINUTES}")
                                                    for page in range(PAGES)]), f"scan-{n}.pdf", batch_id=batch_id)
              for n in range(2)]
    ids = {str(event.document_id) for event in queued}

    def outcomes(events):
        return [e for e in events if e["document_id"] in ids and e["event_type"] in (
            "docintake.document.ingested", "docintake.document.failed")]

    async with listen(settings.rabbitmq_url, "document.*") as listener:
        await publish_all(broker, queued)
        await listener.collect(lambda events: len(outcomes(events)) == 2, timeout=120)

    for outcome in outcomes(listener.events):
        assert outcome["event_type"] == "docintake.document.ingested", outcome
        assert (outcome["data"]["extraction"], outcome["data"]["ocr_pages"]) == ("ocr", PAGES)
    mine = [e for e in listener.events if e["document_id"] in ids]
    requested = [e["document_id"] for e in mine if e["event_type"] == "docintake.document.ocr_requested"]
    assert sorted(requested) == sorted(ids)  # each handed on by the text pass, once
    # both OCR'd at once: the one that finished first had not finished when the other's OCR had moved
    first_done = next(i for i, e in enumerate(mine) if e["event_type"] == "docintake.document.ingested")
    other = next(i for i in ids if i != mine[first_done]["document_id"])
    assert any(e["event_type"] == "docintake.document.progressed" and e["document_id"] == other
               and e["data"]["pages_done"] >= 1 for e in mine[:first_done]), mine
    # by two processes: each OCR ingestor wrote one scan, the text ingestor none, but handed on both
    written = {name: logged(ingestors[name], "document ingested") for name in ("text", "ocr-1", "ocr-2")}
    assert written["text"] & ids == set()
    assert {frozenset(written["ocr-1"] & ids), frozenset(written["ocr-2"] & ids)} == {
        frozenset({i}) for i in ids}, written
    assert logged(ingestors["text"], "document needs OCR; handed to the OCR workers") >= ids
