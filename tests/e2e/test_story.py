"""The original story's acceptance tests, through the public API of the running system."""

import json
import time

import pytest

from docintake.platform.graphdb import open_driver
from tests.support import documents
from tests.support.batches import INGEST, csv_mapping, status, upload, wait_until_finished
from tests.support.broker import listen


def mixed_documents(tag: str) -> list[tuple[str, bytes]]:
    """Six formats, content unique to `tag` so each run writes new Document nodes."""
    text = f"Quarterly knowledge review {tag}. " * 30
    return [
        (f"report-{tag}.pdf", documents.pdf([f"Page one {text}", f"Page two {text}"])),
        (f"memo-{tag}.docx", documents.docx([(f"Memo {tag}", [text])])),
        (f"notes-{tag}.txt", text.encode()),
        (f"guide-{tag}.md", f"# Guide {tag}\n\n{text}\n\n## Details\n\n{text}\n".encode()),
        (f"table-{tag}.csv", f"name,value\nalpha {tag},1\nbeta,2\n".encode()),
        (f"page-{tag}.html", f"<html><body><h1>Page {tag}</h1><p>{text}</p></body></html>".encode()),
    ]


def ten_documents(tag: str) -> list[tuple[str, bytes]]:
    extra = [(f"extra-{i}-{tag}.txt", f"Extra document {i} for {tag}. ".encode() * 40) for i in range(4)]
    return mixed_documents(tag) + extra


def metadata_for(names: list[str]) -> dict[str, dict[str, str]]:
    departments = ["Research", "Legal", "Sales"]
    return {
        name: {
            "author": f"Author {i % 4}",
            "department": departments[i % 3],
            "date_created": f"2024-0{1 + i % 9}-15",
            "tags": "quarterly, review" if i % 2 else "archive",
            "category": "report",
        }
        for i, name in enumerate(names)
    }


async def documents_in_graph(settings, batch_id: str) -> dict[str, dict]:
    driver = open_driver(settings)
    try:
        records, _, _ = await driver.execute_query(
            """
            MATCH (d:Document) WHERE $batch_id IN d.batch_ids
            OPTIONAL MATCH (c:Chunk)-[:PART_OF]->(d)
            WITH d, count(c) AS chunks
            OPTIONAL MATCH (d)-[:AUTHORED_BY]->(a:Author)
            OPTIONAL MATCH (d)-[:BELONGS_TO]->(dep:Department)
            OPTIONAL MATCH (d)-[:TAGGED]->(t:Tag)
            RETURN d.filename AS filename, chunks, d {.*} AS document,
                   collect(DISTINCT a.name) AS authors, collect(DISTINCT dep.name) AS departments,
                   collect(DISTINCT t.name) AS tags
            """,
            batch_id=batch_id,
        )
    finally:
        await driver.close()
    return {record["filename"]: record.data() for record in records}


async def assert_in_graph(settings, batch_id: str, metadata: dict[str, dict[str, str]]) -> None:
    stored = await documents_in_graph(settings, batch_id)
    assert set(stored) == set(metadata)
    for name, expected in metadata.items():
        record = stored[name]
        assert record["chunks"] >= 1, name
        assert record["authors"] == [expected["author"]]
        assert record["departments"] == [expected["department"]]
        assert sorted(record["tags"]) == sorted(t.strip() for t in expected["tags"].split(","))
        assert record["document"]["date_created"] == expected["date_created"]
        assert record["document"]["category"] == expected["category"]


async def test_a_batch_of_ten_with_a_csv_mapping_completes_into_the_graph(api, settings):
    docs = ten_documents(f"csv-{time.time_ns()}")
    metadata = metadata_for([name for name, _ in docs])
    accepted = await upload(api, docs, csv_mapping(metadata))
    assert accepted["total_documents"] == 10 and accepted["status"] == "in_progress"
    final, _ = await wait_until_finished(api, accepted["batch_id"])
    assert final["status"] == "completed", final
    assert (final["processed_count"], final["failed_count"]) == (10, 0)
    await assert_in_graph(settings, accepted["batch_id"], metadata)


async def test_a_batch_of_ten_with_a_json_mapping_completes_into_the_graph(api, settings):
    docs = ten_documents(f"json-{time.time_ns()}")
    metadata = metadata_for([name for name, _ in docs])
    mapping = ("metadata_mapping", ("metadata.json", json.dumps(metadata).encode(), "application/json"))
    accepted = await upload(api, docs, mapping)
    final, _ = await wait_until_finished(api, accepted["batch_id"])
    assert final["status"] == "completed", final
    await assert_in_graph(settings, accepted["batch_id"], metadata)


async def test_partial_failure_names_each_failed_document_and_its_error(api):
    tag = time.time_ns()
    good = [(f"fine-{i}-{tag}.txt", f"A fine document {i} {tag}. ".encode() * 20) for i in range(3)]
    docs = good + [(f"broken-{tag}.pdf", documents.truncated_pdf()), (f"anonymous-{tag}.txt", b"Nobody wrote this.")]
    metadata = {name: {"author": "Ada"} for name, _ in docs if not name.startswith("anonymous")}
    accepted = await upload(api, docs, csv_mapping(metadata))
    final, _ = await wait_until_finished(api, accepted["batch_id"])
    assert final["status"] == "partial_failure", final
    assert (final["processed_count"], final["failed_count"]) == (3, 2)
    errors = {failure["filename"]: failure["error"] for failure in final["failed_documents"]}
    assert set(errors) == {f"broken-{tag}.pdf", f"anonymous-{tag}.txt"}
    assert "PDF" in errors[f"broken-{tag}.pdf"]
    assert errors[f"anonymous-{tag}.txt"] == "Metadata validation failed: Missing required field 'author'"


async def test_the_status_moves_from_in_progress_to_completed(api):
    tag = time.time_ns()
    docs = [(f"life-{i}-{tag}.md", f"# Part {i}\n\n".encode() + f"Lifecycle {tag} {i}. ".encode() * 3000)
            for i in range(12)]
    accepted = await upload(api, docs, csv_mapping({name: {"author": "Ada"} for name, _ in docs}))
    first = await status(api, accepted["batch_id"])
    assert first["status"] == "in_progress" and first["total_documents"] == 12
    assert first["completed_at"] is None
    final, seen = await wait_until_finished(api, accepted["batch_id"])
    assert final["status"] == "completed"
    assert final["completed_at"] is not None and final["processing_time_seconds"] > 0
    assert final["estimated_completion_time"] is None
    counts = [s["processed_count"] for s in seen]
    assert counts == sorted(counts) and counts[-1] == 12


async def test_more_than_one_hundred_files_is_rejected(api):
    files = [("files", (f"f{i}.txt", b"x", "text/plain")) for i in range(101)]
    response = await api.post(f"{INGEST}/batch", files=files)
    assert response.status_code == 400
    assert response.json() == {"error": {
        "code": "BATCH_TOO_LARGE", "message": "Batch exceeds maximum size of 100 files. Uploaded: 101 files"}}


async def test_mixed_formats_are_all_ingested(api, settings):
    docs = mixed_documents(f"mixed-{time.time_ns()}")
    accepted = await upload(api, docs, csv_mapping({name: {"author": "Ada"} for name, _ in docs}))
    final, _ = await wait_until_finished(api, accepted["batch_id"])
    assert final["status"] == "completed", final
    stored = await documents_in_graph(settings, accepted["batch_id"])
    assert sorted(record["document"]["detected_type"] for record in stored.values()) == \
        ["csv", "docx", "html", "markdown", "pdf", "text"]


@pytest.mark.parametrize("batch_id", ["00000000-0000-4000-8000-000000000000", "not-a-batch-id"])
async def test_an_unknown_batch_is_404(api, batch_id):
    response = await api.get(f"{INGEST}/batch/{batch_id}/status")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "BATCH_NOT_FOUND"


@pytest.mark.slow
async def test_twenty_documents_complete_in_under_two_minutes(api):
    tag = time.time_ns()
    docs = [(name.replace(".", f"-{i}."), content)
            for i in range(4) for name, content in mixed_documents(f"{tag}-{i}")][:20]
    started = time.monotonic()
    accepted = await upload(api, docs, csv_mapping({name: {"author": "Ada"} for name, _ in docs}))
    final, _ = await wait_until_finished(api, accepted["batch_id"], timeout=120)
    elapsed = time.monotonic() - started
    print(f"\n20 documents in {elapsed:.1f} s: {20 / elapsed * 60:.0f} documents per minute")
    assert final["status"] == "completed" and elapsed < 120


async def test_a_plain_amqp_subscriber_sees_the_whole_batch_ending_with_batch_completed(api, settings):
    tag = time.time_ns()
    docs = [(f"sub-{i}-{tag}.txt", f"Subscriber {i} {tag}. ".encode() * 30) for i in range(5)]
    async with listen(settings.rabbitmq_url, "#") as listener:
        accepted = await upload(api, docs, csv_mapping({name: {"author": "Ada"} for name, _ in docs}))

        def mine(events: list[dict]) -> list[dict]:
            return [e for e in events if e["batch_id"] == accepted["batch_id"]]

        await listener.collect(
            lambda events: any(e["event_type"] == "docintake.batch.completed" for e in mine(events)), 120)
        await listener.quiet_for(1.0)
    kinds = [e["event_type"] for e in mine(listener.events)]
    assert kinds[0] == "docintake.batch.created"
    assert kinds.count("docintake.document.queued") == 5
    assert kinds.count("docintake.document.ingested") == 5
    assert kinds[-1] == "docintake.batch.completed" and kinds.count("docintake.batch.completed") == 1
    completed = mine(listener.events)[-1]["data"]
    assert (completed["status"], completed["processed_count"], completed["total_documents"]) == ("completed", 5, 5)
