"""OCR does not hold anything up: a long scan and 50 text files in one batch, on a system whose ingestor has one
text worker and one OCR worker; the text files finish first while the scan is OCR'd on its own queue, and the
batch's status and its live stream show the scan's pages done moving up to its pages total. A scan over the page
cap fails with a reason that names it. A Word file whose only text is a picture is OCR'd there too. Needs Debian's
tesseract (`make test` installs it)."""

import asyncio
import json
import shutil
from uuid import uuid4

import pytest

from tests.support.batches import INGEST, csv_mapping, status, upload, wait_until_finished
from tests.support.eventually import eventually
from tests.support.graph import graph_count
from tests.unit.ingestor import scans
from tests.unit.ingestor.test_office_pictures import INVOICE_PICTURE, docx_of_pictures

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")

SCAN_PAGES, TEXT_FILES, PAGE_CAP = 12, 50, 20


@pytest.fixture(scope="module")
def system_env() -> dict[str, str]:
    return {
        "DOCINTAKE_WORKERS": "1", "DOCINTAKE_OCR_WORKERS": "1", "DOCINTAKE_OCR_PROGRESS_INTERVAL_SECONDS": "0.3",
        "DOCINTAKE_OCR_MAX_PAGES": str(PAGE_CAP), "DOCINTAKE_STREAM_POLL_SECONDS": "0.2",
    }


def scan(pages: int, tag: str) -> bytes:
    return scans.scanned_pdf([scans.text_image(f"Page {page} of the scan {tag}. {scans.MINUTES}")
                              for page in range(1, pages + 1)])


def text_file(n: int, tag: str) -> bytes:
    return f"# Note {n} of {tag}\n\n{'Knowledge graphs link documents. ' * 30}\n".encode()


def entry(current: dict, filename: str) -> dict:
    return next(document for document in current["documents"] if document["filename"] == filename)


def listing(statuses: list[dict], filename: str) -> list[dict]:
    """The statuses that list the document (the gateway's answer while the status service has yet to
    record a batch lists none)."""
    return [current for current in statuses if any(d["filename"] == filename for d in current["documents"])]


async def live_stream(api, batch_id: str) -> list[dict]:
    """The `progress` events of the batch's stream, until `complete`."""
    seen: list[dict] = []
    async with api.stream("GET", f"{INGEST}/batch/{batch_id}/events", timeout=300) as response:
        assert response.status_code == 200
        name = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name == "progress":
                seen.append(json.loads(line.removeprefix("data: ")))
            elif line.startswith("data: ") and name == "complete":
                return seen
    return seen


async def test_a_long_scan_does_not_hold_up_the_text_files_of_its_batch(api):
    tag = uuid4().hex[:8]
    scan_name = f"scan-{tag}.pdf"  # names of their own: new sources, whatever earlier runs left
    docs = [(scan_name, scan(SCAN_PAGES, tag))]  # first in the batch: queued ahead of the text files
    docs += [(f"note-{tag}-{n:02d}.md", text_file(n, tag)) for n in range(TEXT_FILES)]
    accepted = await upload(api, docs, csv_mapping({name: {"author": "Ada"} for name, _ in docs}))
    batch_id = accepted["batch_id"]
    stream = asyncio.create_task(live_stream(api, batch_id))

    final, seen = await wait_until_finished(api, batch_id, timeout=300)
    streamed = listing(await asyncio.wait_for(stream, 30), scan_name)
    seen = listing(seen, scan_name)

    assert final["status"] == "completed" and final["processed_count"] == TEXT_FILES + 1, final
    scanned = entry(final, scan_name)
    assert (scanned["ocr_pages_done"], scanned["ocr_pages_total"]) == (SCAN_PAGES, SCAN_PAGES)
    # the text files finished first: a status showed every one of them ingested with the scan still being OCR'd
    texts_done_first = [
        current for current in seen
        if entry(current, scan_name)["outcome"] == "processing"
        and all(document["outcome"] == "ingested" for document in current["documents"]
                if document["filename"] != scan_name)
    ]
    assert texts_done_first, [(s["processed_count"], entry(s, scan_name)["ocr_pages_done"]) for s in seen]
    # and the status moved while the scan was OCR'd, page by page, never back
    polled = [entry(current, scan_name)["ocr_pages_done"] for current in seen
              if entry(current, scan_name)["outcome"] == "processing"]
    assert len({done for done in polled if done is not None and 0 < done < SCAN_PAGES}) >= 2, polled
    assert polled == sorted(polled, key=lambda done: done or 0)
    live = [entry(current, scan_name)["ocr_pages_done"] for current in streamed]
    assert len({done for done in live if done is not None and 0 < done < SCAN_PAGES}) >= 2, live
    assert texts_done_first[0]["estimated_completion_time"] is not None


async def test_a_scan_over_the_page_cap_fails_with_the_cap_named(api):
    name = f"long-{uuid4().hex[:8]}.pdf"
    docs = [(name, scans.scanned_pdf([scans.text_image(scans.INVOICE, size=(1240, 400))] * (PAGE_CAP + 1)))]
    accepted = await upload(api, docs, csv_mapping({name: {"author": "Ada"}}))

    final = await eventually(lambda: status(api, accepted["batch_id"]), lambda s: s["status"] != "in_progress",
                             timeout=120, interval=0.2)

    assert final["status"] == "failed"
    [failed] = final["failed_documents"]
    assert failed["error_code"] == "OCR_PAGE_LIMIT"
    assert failed["error"] == (
        f"The document needs OCR on {PAGE_CAP + 1} pages, more than the {PAGE_CAP} one document may have OCR'd "
        "(DOCINTAKE_OCR_MAX_PAGES); split it or raise the limit"
    )


async def test_a_word_file_whose_only_text_is_a_picture_is_ocrd_on_the_ocr_queue(api, settings):
    name = f"pasted-scan-{uuid4().hex[:8]}.docx"
    accepted = await upload(api, [(name, docx_of_pictures(INVOICE_PICTURE))], csv_mapping({name: {"author": "Ada"}}))

    final, _ = await wait_until_finished(api, accepted["batch_id"], timeout=120)

    assert final["status"] == "completed", final
    assert (entry(final, name)["ocr_pages_done"], entry(final, name)["ocr_pages_total"]) == (1, 1)
    invoice_number_found = await graph_count(settings, """
        MATCH (:Source {path: $path})-[:CURRENT]->(:Document)<-[:PART_OF]-(c:Chunk)
        WHERE c.text CONTAINS 'Invoice number 4711' RETURN count(c) AS n""", path=name)
    assert invoice_number_found == 1
