"""A document's OCR in its batch's record: OcrRequested and DocumentProgressed keep it processing and say how
many pages are done; progress only moves forward, the final outcome wins, a new attempt starts over, and a job
that reports progress is not stalled."""

import itertools
from datetime import timedelta

from docintake.status.adapters.neo4j_progress_records import item_from_properties, item_properties
from docintake.status.domain import views
from docintake.status.domain.progress import Batch, DocumentState
from docintake.status.domain.stall import stall_verdicts
from tests.support.status_events import T0, SyntheticBatch


def fold(batch_id, events) -> Batch:
    batch = Batch(batch_id)
    for event in events:
        batch.apply(event)
    return batch


def entry(batch: Batch, index: int, synthetic: SyntheticBatch):
    return views.document_entry(batch.documents[synthetic.refs[index].document_id])


def test_a_document_handed_to_ocr_is_processing_with_its_pages_done_of_its_pages_total():
    synthetic = SyntheticBatch(size=2, start=T0)
    batch = fold(synthetic.batch_id, [synthetic.created(), synthetic.queued(0), synthetic.queued(1),
                                      synthetic.ocr_requested(0, pages=300)])
    assert batch.documents[synthetic.refs[0].document_id].state is DocumentState.PROCESSING
    first, second = entry(batch, 0, synthetic), entry(batch, 1, synthetic)
    assert (first.outcome, first.ocr_pages_done, first.ocr_pages_total) == ("processing", 0, 300)
    assert (second.outcome, second.ocr_pages_done, second.ocr_pages_total) == ("queued", None, None)
    batch.apply(synthetic.progressed(0, 120, 300))
    assert (entry(batch, 0, synthetic).ocr_pages_done, entry(batch, 0, synthetic).ocr_pages_total) == (120, 300)
    assert batch.status == "in_progress"


def test_ocr_progress_in_any_order_and_with_duplicates_converges_and_never_moves_back():
    synthetic = SyntheticBatch(size=1, start=T0)
    events = [synthetic.created(), synthetic.queued(0), synthetic.ocr_requested(0, pages=4),
              synthetic.progressed(0, 1, 5), synthetic.progressed(0, 3, 5), synthetic.progressed(0, 5, 5),
              synthetic.ingested(0)]
    records = set()
    for order in itertools.permutations(events):
        batch = fold(synthetic.batch_id, [*order, order[3]])
        document = entry(batch, 0, synthetic)
        records.add((document.outcome, document.ocr_pages_done, document.ocr_pages_total, batch.status))
    assert records == {("ingested", 5, 5, "completed")}  # the final outcome wins over later progress


def test_a_failed_ocr_job_is_failed_whatever_progress_comes_after_it():
    synthetic = SyntheticBatch(size=1, start=T0)
    failed = synthetic.failed(0, error_code="OCR_TIMEOUT", message="OCR of page 3 took longer than 60 s")
    batch = fold(synthetic.batch_id, [synthetic.created(), synthetic.queued(0), failed,
                                      synthetic.progressed(0, 2, 9)])
    assert batch.status == "failed" and batch.failed_documents[0].error_code == "OCR_TIMEOUT"


def test_a_new_attempt_starts_its_ocr_progress_over_and_ignores_the_old_attempts():
    synthetic = SyntheticBatch(size=1, start=T0)
    batch = fold(synthetic.batch_id, [
        synthetic.created(), synthetic.queued(0), synthetic.ocr_requested(0, pages=8), synthetic.progressed(0, 6, 8),
        synthetic.failed(0), synthetic.queued(0, attempt=2), synthetic.progressed(0, 7, 8),  # late, of attempt 1
    ])
    document = entry(batch, 0, synthetic)
    assert (document.outcome, document.ocr_pages_done, document.ocr_pages_total) == ("queued", None, None)
    batch.apply(synthetic.ocr_requested(0, pages=8, attempt=2))
    batch.apply(synthetic.progressed(0, 2, 8, attempt=2))
    document = entry(batch, 0, synthetic)
    assert (document.outcome, document.ocr_pages_done, document.ocr_pages_total) == ("processing", 2, 8)


def test_a_long_ocr_job_that_reports_progress_is_not_stalled():
    synthetic = SyntheticBatch(size=1, start=T0)
    timeout = 60
    batch = fold(synthetic.batch_id, [synthetic.created(), synthetic.queued(0, at=T0),
                                      synthetic.ocr_requested(0, pages=300, at=T0)])
    for minute in range(1, 10):  # far longer than the stall timeout, with news every 50 s
        at = T0 + timedelta(seconds=50 * minute)
        batch.apply(synthetic.progressed(0, 10 * minute, 300, at=at))
        assert stall_verdicts(batch, at + timedelta(seconds=timeout - 1), timeout) == []
    quiet = T0 + timedelta(seconds=50 * 9 + timeout + 1)
    [verdict] = stall_verdicts(batch, quiet, timeout)  # and once it goes quiet, it is
    assert verdict.data.error_code == "TIMED_OUT"


def test_the_stored_item_keeps_its_ocr_progress():
    synthetic = SyntheticBatch(size=1, start=T0)
    batch = fold(synthetic.batch_id, [synthetic.created(), synthetic.queued(0), synthetic.progressed(0, 4, 9)])
    document = batch.documents[synthetic.refs[0].document_id]
    kept = {**item_properties(synthetic.batch_id, document), "document_id": str(document.document_id)}
    assert item_from_properties(kept) == document
