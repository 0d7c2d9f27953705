"""The status service as a real process, driven through the real broker and its HTTP API."""

import asyncio
import json

import aio_pika
import httpx
import pytest

from docintake.contracts.api import BatchStatus
from docintake.contracts.events import BatchCancelled, BatchCompleted, DocumentQueued
from docintake.contracts.topology import DEAD_LETTER_QUEUE_NAME, EXCHANGE_NAME
from docintake.platform.messaging import publish_all
from tests.support.broker import listen
from tests.support.eventually import eventually
from tests.support.status_events import SyntheticBatch
from tests.support.status_service import STATUS, status_of, status_when


async def test_a_batch_goes_from_in_progress_to_completed(broker, http):
    synthetic = SyntheticBatch(size=3)
    await publish_all(broker, [synthetic.created(), synthetic.ingested(0)])

    halfway = await status_when(http, synthetic.batch_id, lambda s: (s.total_documents, s.processed_count) == (3, 1))
    assert (halfway.status, halfway.total_documents, halfway.pending_count) == ("in_progress", 3, 2)
    assert halfway.estimated_completion_time is not None
    assert halfway.completed_at is None

    await publish_all(broker, [synthetic.ingested(1), synthetic.ingested(2)])
    done = await status_when(http, synthetic.batch_id, lambda s: s.status != "in_progress")

    assert (done.status, done.processed_count, done.failed_count, done.pending_count) == ("completed", 3, 0, 0)
    assert done.completed_at is not None and done.processing_time_seconds > 0
    assert done.estimated_completion_time is None


@pytest.mark.parametrize(("outcomes", "status", "failed"), [("iff", "partial_failure", 2), ("ff", "failed", 2)])
async def test_failed_documents_are_listed(broker, http, outcomes, status, failed):
    synthetic = SyntheticBatch(size=len(outcomes))
    events = [synthetic.created()] + [
        synthetic.ingested(index) if outcome == "i" else synthetic.failed(index, message=f"broken {index}")
        for index, outcome in enumerate(outcomes)
    ]
    await publish_all(broker, events)

    done = await status_when(http, synthetic.batch_id, lambda s: s.status != "in_progress")

    assert (done.status, done.failed_count) == (status, failed)
    assert {(doc.filename, doc.error, doc.error_code) for doc in done.failed_documents} == {
        (synthetic.refs[index].filename, f"broken {index}", "PARSE_ERROR")
        for index, outcome in enumerate(outcomes) if outcome == "f"
    }


async def test_unchanged_documents_are_counted_apart_and_each_document_says_what_happened(broker, http, settings):
    synthetic = SyntheticBatch(size=4)
    async with listen(settings.rabbitmq_url, "batch.completed") as listener:
        await publish_all(broker, [
            synthetic.created(), synthetic.ingested(0, change="added"), synthetic.ingested(1, change="replaced"),
            synthetic.ingested(2, change="unchanged"), synthetic.failed(3)])
        done = await status_when(http, synthetic.batch_id, lambda s: s.status != "in_progress")
        [completed] = await listener.collect(lambda events: [e for e in events
                                                             if e["batch_id"] == str(synthetic.batch_id)])

    assert (done.status, done.processed_count, done.unchanged_count, done.failed_count, done.pending_count) == (
        "partial_failure", 2, 1, 1, 0)
    outcomes = ("ingested", "updated", "unchanged", "failed")
    assert [(entry.source_path, entry.outcome) for entry in done.documents] == [
        (ref.source_path, outcome) for ref, outcome in zip(synthetic.refs, outcomes, strict=True)]
    assert completed["data"]["unchanged_count"] == 1 and completed["data"]["processed_count"] == 2
    listed = (await http.get("/api/v1/documents/ingest/batches")).json()["batches"]
    assert all(batch["documents"] == [] for batch in listed)


async def test_events_before_batch_created_converge(broker, http):
    synthetic = SyntheticBatch(size=2)
    await publish_all(broker, [synthetic.ingested(1), synthetic.failed(0)])
    early = await status_when(http, synthetic.batch_id, lambda s: s.processed_count == 1 and s.failed_count == 1)
    assert early.status == "in_progress"

    await publish_all(broker, [synthetic.created(), synthetic.failed(1)])  # a late, conflicting failure
    done = await status_when(http, synthetic.batch_id, lambda s: s.status != "in_progress")
    assert (done.status, done.processed_count, done.failed_count) == ("partial_failure", 1, 1)


async def test_cancel_cancels_the_unfinished_documents_and_announces_it(broker, http, settings):
    synthetic = SyntheticBatch(size=3)
    await publish_all(broker, [synthetic.created(), synthetic.ingested(0)])
    await status_when(http, synthetic.batch_id, lambda s: (s.total_documents, s.processed_count) == (3, 1))

    async with listen(settings.rabbitmq_url, "batch.cancelled", "batch.completed") as tap:
        response = await http.post(f"/api/v1/documents/ingest/batch/{synthetic.batch_id}/cancel")
        assert response.status_code == 200
        cancelled = BatchStatus.model_validate(response.json())
        assert (cancelled.status, cancelled.processed_count, cancelled.cancelled_count) == ("cancelled", 1, 2)

        events = await tap.of_batch_once(synthetic.batch_id, 2)
        assert {type(event) for event in events} == {BatchCancelled, BatchCompleted}

    await publish_all(broker, [synthetic.ingested(1)])  # finished after the cancel: does not count
    again = await http.post(f"/api/v1/documents/ingest/batch/{synthetic.batch_id}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "BATCH_ALREADY_FINISHED"
    assert (await status_of(http, synthetic.batch_id)).cancelled_count == 2


async def test_five_clients_cancelling_at_once_publish_one_batch_cancelled(broker, http, settings):
    synthetic = SyntheticBatch(size=2)
    await publish_all(broker, [synthetic.created()])
    await status_when(http, synthetic.batch_id, lambda s: s.total_documents == 2)

    async with listen(settings.rabbitmq_url, "batch.cancelled") as tap:
        answers = await asyncio.gather(*(http.post(f"/api/v1/documents/ingest/batch/{synthetic.batch_id}/cancel")
                                         for _ in range(5)))
        await tap.quiet_for(1.5)

    assert sorted(answer.status_code for answer in answers) == [200, 409, 409, 409, 409]
    assert {answer.json()["error"]["code"] for answer in answers if answer.status_code == 409} == {
        "BATCH_ALREADY_FINISHED"}
    assert len(tap.of_batch(synthetic.batch_id)) == 1


async def test_unknown_batch_is_404_with_the_error_envelope(http):
    for batch_id in (SyntheticBatch().batch_id, "not-a-uuid"):
        response = await http.get(STATUS.format(batch_id))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "BATCH_NOT_FOUND"
        assert set(response.json()["error"]) == {"code", "message"}


async def test_the_api_requires_an_api_key(service):
    async with httpx.AsyncClient(base_url=service.base_url) as anonymous:
        for path in (STATUS.format(SyntheticBatch().batch_id), "/api/v1/internal/pending",
                     "/api/v1/documents/ingest/batches"):
            response = await anonymous.get(path)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "UNAUTHORIZED"
        assert (await anonymous.get(STATUS.format(SyntheticBatch().batch_id),
                                    headers={"X-API-Key": "wrong"})).status_code == 401
        assert (await anonymous.get("/healthz")).status_code == 200


async def test_the_live_stream_sends_progress_and_ends_with_the_batch(broker, http):
    synthetic = SyntheticBatch(size=3)
    await publish_all(broker, [synthetic.created()])
    await status_when(http, synthetic.batch_id, lambda s: s.total_documents == 3)

    received: list[tuple[str, BatchStatus]] = []
    async with http.stream("GET", f"/api/v1/documents/ingest/batch/{synthetic.batch_id}/events",
                           timeout=30) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        name = None
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                received.append((name, BatchStatus.model_validate_json(line.removeprefix("data: "))))
                if len(received) == 1:  # the stream is open: now let the batch progress
                    await publish_all(broker, [synthetic.ingested(0)])
                    await status_when(http, synthetic.batch_id, lambda s: s.processed_count == 1)
                    await publish_all(broker, [synthetic.ingested(1), synthetic.failed(2)])

    names = [name for name, _ in received]
    assert names[-1] == "complete" and names[:-1] == ["progress"] * (len(names) - 1)
    assert len(names) >= 3
    assert [status.processed_count for _, status in received][0] == 0
    assert received[-1][1].status == "partial_failure"


async def test_retry_turns_a_failed_document_into_an_ingested_one(broker, http, settings):
    synthetic = SyntheticBatch(size=2)
    await publish_all(broker, [synthetic.created(), synthetic.ingested(0), synthetic.failed(1)])
    await status_when(http, synthetic.batch_id, lambda s: s.status == "partial_failure")

    async with listen(settings.rabbitmq_url, "document.queued", "batch.completed") as tap:
        response = await http.post(f"/api/v1/documents/ingest/batch/{synthetic.batch_id}/retry")
        assert response.status_code == 200
        retried = BatchStatus.model_validate(response.json())
        assert (retried.status, retried.failed_count, retried.pending_count) == ("in_progress", 0, 1)

        # Right away, as an ingestor would: one running at the same time may take up the
        # DocumentQueued too, and fail the made-up document, but later than this.
        await publish_all(broker, [synthetic.ingested(1, attempt=2)])
        events = await tap.of_batch_once(synthetic.batch_id, 1)
        [queued] = [event for event in events if isinstance(event, DocumentQueued)]
        assert queued.document_id == synthetic.refs[1].document_id
        assert queued.data.attempt == 2
        assert queued.data.document == synthetic.refs[1]

        done = await status_when(http, synthetic.batch_id, lambda s: s.status != "in_progress")
        assert (done.status, done.processed_count, done.failed_count) == ("completed", 2, 0)

        events = await tap.of_batch_once(synthetic.batch_id, 2)
        completions = [event for event in events if isinstance(event, BatchCompleted)]
        assert [event.data.status for event in completions] == ["completed"]
        assert completions[0].event_id != BatchCompleted.id_for(synthetic.batch_id)  # a second round

    nothing = await http.post(f"/api/v1/documents/ingest/batch/{synthetic.batch_id}/retry")
    assert (nothing.status_code, nothing.json()["error"]["code"]) == (409, "NOTHING_TO_RETRY")


async def test_batch_completed_is_published_once(broker, http, settings):
    synthetic = SyntheticBatch(size=2)
    async with listen(settings.rabbitmq_url, "batch.completed") as tap:
        events = [synthetic.created(), synthetic.ingested(0), synthetic.ingested(1)]
        await publish_all(broker, events + events)  # every event delivered twice
        await tap.of_batch_once(synthetic.batch_id, 1)
        await status_when(http, synthetic.batch_id, lambda s: s.status == "completed")
        await tap.quiet_for(2.5)  # several rounds of the periodic re-publisher later, still one

    [completion] = tap.of_batch(synthetic.batch_id)
    assert completion.event_id == BatchCompleted.id_for(synthetic.batch_id)
    assert (completion.data.status, completion.data.processed_count, completion.data.total_documents) == (
        "completed", 2, 2)


async def test_a_body_that_is_not_an_event_is_dead_lettered_and_an_unknown_event_ignored(broker, http, settings):
    connection = await aio_pika.connect(settings.rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        dead_letters = await channel.declare_queue(DEAD_LETTER_QUEUE_NAME, passive=True)
        dead_before = dead_letters.declaration_result.message_count
        exchange = await channel.get_exchange(EXCHANGE_NAME)
        synthetic = SyntheticBatch(size=1)
        unknown = {"event_type": "docintake.batch.archived", "batch_id": str(synthetic.batch_id)}
        for body in (b"{this is not json", json.dumps(unknown).encode()):
            await exchange.publish(aio_pika.Message(body, content_type="application/json"),
                                   routing_key="batch.poison")

        await publish_all(broker, synthetic.story("i", queued=False))  # the projection carries on
        await status_when(http, synthetic.batch_id, lambda s: s.status == "completed")

        async def dead_letter_count() -> int:
            queue = await channel.declare_queue(DEAD_LETTER_QUEUE_NAME, passive=True)
            return queue.declaration_result.message_count

        assert await eventually(dead_letter_count, lambda count: count >= dead_before + 1, timeout=5)


async def test_a_record_that_does_not_load_back_costs_only_its_own_batch(broker, http, service, repo):
    spoilt, healthy = SyntheticBatch(size=2), SyntheticBatch(size=1)
    await publish_all(broker, [spoilt.created(), spoilt.ingested(0)])
    await status_when(http, spoilt.batch_id, lambda s: s.processed_count == 1)
    await repo._driver.execute_query(
        "MATCH (:IngestBatch {batch_id: $id})-[:HAS_ITEM]->(i:IngestItem) SET i.ref = '{not json'",
        id=str(spoilt.batch_id))

    await asyncio.sleep(0.5)  # past the age of the status read the routes share
    for method, path in (("GET", "status"), ("POST", "cancel"), ("POST", "retry")):
        refused = await http.request(method, f"/api/v1/documents/ingest/batch/{spoilt.batch_id}/{path}")
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, "BATCH_RECORD_QUARANTINED")
        assert "does not load back" in refused.json()["error"]["message"]
    listed = await http.get("/api/v1/documents/ingest/batches", params={"limit": 100})
    assert listed.status_code == 200
    assert str(spoilt.batch_id) not in {batch["batch_id"] for batch in listed.json()["batches"]}

    await publish_all(broker, [spoilt.ingested(1), *healthy.story("i", queued=False)])
    await status_when(http, healthy.batch_id, lambda s: s.status == "completed")

    async def set_aside() -> list[dict]:
        return [line for line in service.log_lines() if line.get("batch_id") == str(spoilt.batch_id)
                and line.get("message") == "event of a quarantined batch acknowledged, not applied"]

    [line] = await eventually(set_aside, bool, timeout=10)
    assert "does not load back" in line["reason"]


async def test_batches_are_listed_newest_first_page_by_page(broker, http):
    batches = [SyntheticBatch(size=1) for _ in range(3)]
    for synthetic in batches:
        await publish_all(broker, synthetic.story("f", queued=False))
    for synthetic in batches:
        await status_when(http, synthetic.batch_id, lambda s: s.status == "failed")

    seen, cursor = [], None
    for _ in range(50):
        params = {"status": "failed", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await http.get("/api/v1/documents/ingest/batches", params=params)).json()
        seen += [(batch["created_at"], batch["batch_id"]) for batch in page["batches"]]
        assert {batch["status"] for batch in page["batches"]} <= {"failed"}
        cursor = page["next_cursor"]
        if cursor is None or {str(b.batch_id) for b in batches} <= {batch_id for _, batch_id in seen}:
            break
    assert seen == sorted(seen, reverse=True)
    assert {str(b.batch_id) for b in batches} <= {batch_id for _, batch_id in seen}

    bad = await http.get("/api/v1/documents/ingest/batches", params={"cursor": "nonsense"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "INVALID_CURSOR")


async def test_pending_bytes_cover_unfinished_documents(broker, http):
    synthetic = SyntheticBatch(size=3)
    before = (await http.get("/api/v1/internal/pending")).json()
    await publish_all(broker, [synthetic.created(), synthetic.ingested(0)])
    await status_when(http, synthetic.batch_id, lambda s: (s.total_documents, s.processed_count) == (3, 1))

    pending = (await http.get("/api/v1/internal/pending")).json()
    assert {"pending_bytes", "pending_documents"} <= set(pending)
    assert pending["pending_documents"] >= 2 and pending["pending_bytes"] >= 2000
    of_tenant = (await http.get("/api/v1/internal/pending", params={"tenant": "default"})).json()
    assert of_tenant["tenant_pending_documents"] >= 2 and of_tenant["tenant_uploaded_bytes_today"] >= 3000
    assert before["pending_documents"] >= 0
    await publish_all(broker, [synthetic.ingested(1), synthetic.ingested(2)])  # leave nothing pending behind
    await status_when(http, synthetic.batch_id, lambda s: s.status == "completed")


async def test_readiness_and_metrics(http):
    assert (await http.get("/readyz")).json() == {"status": "ready"}
    metrics = (await http.get("/metrics")).text
    assert "docintake_status_events_applied_total" in metrics
    assert "docintake_status_duplicate_events_total" in metrics
    assert "docintake_status_projection_seconds_bucket" in metrics
