"""The status service process: a clean stop, a crash in the middle of a batch, and the stall timeout."""

import asyncio
import signal

from prometheus_client.parser import text_string_to_metric_families

from docintake.contracts.events import BatchCompleted, DocumentFailed
from docintake.platform.graphdb import open_driver
from docintake.platform.messaging import ingestion_backlog, publish_all
from docintake.platform.topology import INGESTOR_QUEUE, LANE_QUEUES, OCR_QUEUE
from tests.support.broker import listen
from tests.support.eventually import eventually
from tests.support.status_events import SyntheticBatch
from tests.support.status_service import StatusService, status_when


async def test_the_service_logs_ready_and_exits_0_on_sigterm(tmp_path):
    async with StatusService(tmp_path / "service.log").running(signal.SIGTERM) as service, service.client() as http:
        ready = (await http.get("/readyz")).status_code

    assert (ready, service.exit_code) == (200, 0)
    messages = [line["message"] for line in service.log_lines()]
    assert "ready" in messages
    assert "Application shutdown complete." in messages


async def test_killed_in_the_middle_of_a_batch_the_restarted_service_ends_with_exact_counts(
        broker, tmp_path, settings):
    synthetic = SyntheticBatch(size=80)
    events = [synthetic.created()] + [synthetic.ingested(index) for index in range(60)] + [
        synthetic.failed(index) for index in range(60, 80)]
    before_crash, after_crash = events[:50], events[50:]

    async with listen(settings.rabbitmq_url, "batch.completed") as tap:
        async with StatusService(tmp_path / "first.log").running(signal.SIGKILL) as first, first.client() as http:
            await publish_all(broker, before_crash)
            await status_when(http, synthetic.batch_id, lambda s: s.processed_count > 0, timeout=30)
        assert first.exit_code == -signal.SIGKILL

        await publish_all(broker, after_crash + before_crash[:10])  # with some published twice
        async with StatusService(tmp_path / "second.log").running() as second, second.client() as http:
            done = await status_when(http, synthetic.batch_id, lambda s: s.status != "in_progress", timeout=60)
            [completion] = await tap.of_batch_once(synthetic.batch_id, 1)
        assert second.exit_code == 0

    assert (done.status, done.total_documents, done.processed_count, done.failed_count,
            done.pending_count) == ("partial_failure", 80, 60, 20, 0), f"batch {synthetic.batch_id}"
    assert completion.event_id == BatchCompleted.id_for(synthetic.batch_id)
    assert (completion.data.processed_count, completion.data.failed_count) == (60, 20)


async def nothing_waits_for_an_ingestor(broker) -> None:
    for queue in (INGESTOR_QUEUE, *LANE_QUEUES, OCR_QUEUE):
        await (await broker.declare_queue(queue)).purge()


async def test_documents_time_out_only_while_nothing_waits_for_an_ingestor(broker, tmp_path):
    await nothing_waits_for_an_ingestor(broker)  # what earlier tests queued with no ingestor running
    synthetic = SyntheticBatch(size=3)
    async with StatusService(tmp_path / "service.log", stall_timeout_seconds=2).running() as service, \
            service.client() as http:
        # The default tenant's lane now holds a document waiting, as behind a backlog.
        await publish_all(broker, [synthetic.created(), synthetic.queued(2), synthetic.ingested(0)])
        await asyncio.sleep(5)
        waiting = await status_when(http, synthetic.batch_id, lambda s: True)
        await nothing_waits_for_an_ingestor(broker)
        done = await status_when(http, synthetic.batch_id, lambda s: s.status != "in_progress", timeout=20)

    assert (waiting.status, waiting.failed_count) == ("in_progress", 0)
    assert (done.status, done.processed_count, done.failed_count) == ("partial_failure", 1, 2)
    # Adapted: the document BatchCreated listed but nobody queued is NOT_QUEUED, the queued one TIMED_OUT.
    assert {(doc.document_id, doc.error, doc.error_code) for doc in done.failed_documents} == {
        (synthetic.refs[1].document_id, "not queued: no DocumentQueued arrived within 2 s", "NOT_QUEUED"),
        (synthetic.refs[2].document_id, "timed out: no progress for 2 s", "TIMED_OUT")}


async def test_a_document_waiting_for_an_ocr_worker_holds_the_stall_clock_like_one_waiting_on_a_lane(broker):
    """The stall guard's backlog counts the OCR queue: a scan waiting there for an OCR worker is not stalled."""
    await nothing_waits_for_an_ingestor(broker)
    synthetic = SyntheticBatch(size=1)
    await publish_all(broker, [synthetic.ocr_requested(0, pages=300)])  # no OCR worker runs here

    assert await eventually(lambda: ingestion_backlog(broker), lambda waiting: waiting == 1)
    await nothing_waits_for_an_ingestor(broker)
    assert await ingestion_backlog(broker) == 0


async def test_a_stalled_document_is_published_as_timed_out_and_shown_so(broker, tmp_path, settings):
    """Any subscriber of docintake.events hears the sweeper's verdict, and the status route says the same."""
    synthetic = SyntheticBatch(size=1)
    service = StatusService(tmp_path / "service.log", stall_timeout_seconds=1, sweep_interval_seconds=0.5)
    async with service.running(), listen(settings.rabbitmq_url, "document.failed") as tap, service.client() as http:
        await publish_all(broker, [synthetic.created(), synthetic.queued(0)])
        await status_when(http, synthetic.batch_id, lambda s: s.total_documents == 1)
        await nothing_waits_for_an_ingestor(broker)  # no ingestor runs here, so the stall clock runs

        [failed] = await tap.of_batch_once(synthetic.batch_id, 1)
        done = await status_when(http, synthetic.batch_id, lambda s: s.status != "in_progress")

    assert isinstance(failed, DocumentFailed)
    assert (failed.document_id, failed.data.error_code, failed.data.attempt) == (
        synthetic.refs[0].document_id, "TIMED_OUT", 1)
    assert (done.status, done.failed_count) == ("failed", 1)
    [shown] = done.failed_documents
    assert (shown.document_id, shown.error, shown.error_code) == (
        failed.document_id, failed.data.message, "TIMED_OUT")


def counted(metrics: str, name: str) -> float:
    return sum(sample.value for family in text_string_to_metric_families(metrics) for sample in family.samples
               if sample.name == name)


async def test_the_sweep_forgets_the_ids_of_events_applied_longer_ago_than_their_retention(broker, tmp_path, settings):
    graph = open_driver(settings)
    service = StatusService(tmp_path / "service.log", sweep_interval_seconds=0.5,
                            applied_event_retention_hours=0.0005)  # under two seconds
    synthetic = SyntheticBatch(size=1)
    events = [synthetic.created(), synthetic.queued(0), synthetic.ingested(0)]

    async def markers() -> int:
        result = await graph.execute_query("MATCH (e:IngestEvent {batch_id: $id}) RETURN count(e) AS n",
                                           id=str(synthetic.batch_id))
        return result.records[0]["n"]

    async def applied() -> float:
        return counted((await http.get("/metrics")).text, "docintake_status_events_applied_total")

    try:
        async with service.running(), service.client() as http:
            await publish_all(broker, events)
            done = await status_when(http, synthetic.batch_id, lambda s: s.status == "completed")
            await eventually(markers, lambda n: n == 0, timeout=20)

            before = await applied()
            await publish_all(broker, events)  # delivered again once their ids were forgotten
            await eventually(applied, lambda n: n == before + len(events), timeout=20)
            again = await status_when(http, synthetic.batch_id, lambda s: True)
    finally:
        await graph.close()
    assert again == done
