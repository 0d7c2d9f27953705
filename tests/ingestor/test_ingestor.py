"""The ingestor process against real RabbitMQ, MinIO and Neo4j."""

import subprocess
import sys
import time
from uuid import uuid4

import pytest

from deploy.native.services import ServiceProcess
from docintake.contracts.events import BatchCancelled
from docintake.contracts.messaging import publish
from tests.conftest import ROOT
from tests.support import documents
from tests.support.broker import listen
from tests.support.ingest import outcomes_for, queue


def unique_text(title: str) -> bytes:
    body = "\n\n".join(f"Paragraph {i} of {title}: " + "knowledge graphs link documents. " * 20 for i in range(12))
    return f"# {title}\n\n{body}\n\n## Appendix {uuid4()}\n\nThe end.\n".encode()


async def graph_of(graph, sha256: str) -> dict:
    records, _, _ = await graph.execute_query(
        """
        MATCH (d:Document {sha256: $sha256})
        OPTIONAL MATCH (c:Chunk)-[:PART_OF]->(d)
        WITH d, count(c) AS chunks
        OPTIONAL MATCH (d:Document {sha256: $sha256})<-[:PART_OF]-(a:Chunk)-[:NEXT]->(b:Chunk)
        WITH d, chunks, count(b) AS links
        OPTIONAL MATCH (d)-[:AUTHORED_BY]->(author:Author)
        OPTIONAL MATCH (d)-[:TAGGED]->(tag:Tag)
        RETURN d {.*} AS document, chunks, links, collect(DISTINCT author.name) AS authors, collect(DISTINCT tag.name) AS tags
        """,
        sha256=sha256,
    )
    return records[0].data() if records else {}


async def test_a_queued_document_becomes_its_graph_and_one_ingested_event(ingestor, broker, store, graph, settings):
    async with listen(settings.rabbitmq_url, "document.*") as listener:
        event = await queue(broker, store, unique_text("Graphs"), "graphs.md",
                            metadata={"author": "Ada", "tags": "graphs, notes", "department": "R&D", "project": "x"})
        mine = outcomes_for(event)
        await listener.collect(mine)
        await listener.quiet_for(1.0)
    [outcome] = mine(listener.events)
    assert outcome["event_type"] == "docintake.document.ingested", outcome
    data = outcome["data"]
    assert data["detected_type"] == "markdown" and data["chunks"] >= 8 and data["characters"] > 8000
    stored = await graph_of(graph, event.data.document.sha256)
    assert stored["chunks"] == data["chunks"] and stored["links"] == data["chunks"] - 1
    assert stored["document"]["filename"] == "graphs.md"
    assert stored["document"]["meta_project"] == "x"
    assert stored["authors"] == ["Ada"] and sorted(stored["tags"]) == ["graphs", "notes"]
    records, _, _ = await graph.execute_query(
        "CALL db.index.fulltext.queryNodes('chunk_text', 'Appendix') YIELD node "
        "WHERE node.document_sha256 = $sha RETURN count(node) AS n", sha=event.data.document.sha256)
    assert records[0]["n"] >= 1


async def test_the_same_content_twice_is_one_document(ingestor, broker, store, graph, settings):
    content = unique_text("Twice")
    async with listen(settings.rabbitmq_url, "document.*") as listener:
        first = await queue(broker, store, content, "a.md", metadata={"author": "Ada"})
        second = await queue(broker, store, content, "b.md", metadata={"author": "Grace"})
        await listener.collect(lambda events: len(outcomes_for(first, second)(events)) == 2)
    records, _, _ = await graph.execute_query(
        "MATCH (d:Document {sha256: $sha}) RETURN count(d) AS n", sha=first.data.document.sha256)
    assert records[0]["n"] == 1
    stored = await graph_of(graph, first.data.document.sha256)
    assert sorted(stored["authors"]) == ["Ada", "Grace"]  # metadata merged
    assert stored["links"] == stored["chunks"] - 1  # chunks replaced, not duplicated
    assert sorted(stored["document"]["document_ids"]) == sorted([str(first.document_id), str(second.document_id)])


async def test_a_redelivered_message_changes_nothing(ingestor, broker, store, graph, settings):
    async with listen(settings.rabbitmq_url, "document.*") as listener:
        event = await queue(broker, store, unique_text("Redelivered"), "r.md")
        await listener.collect(outcomes_for(event))
        before = await graph_of(graph, event.data.document.sha256)
        await publish(broker, event)  # the very same event again
        await listener.collect(lambda events: len(outcomes_for(event)(events)) == 2)
    after = await graph_of(graph, event.data.document.sha256)
    assert {k: v for k, v in after["document"].items() if not k.endswith("_at")} == \
           {k: v for k, v in before["document"].items() if not k.endswith("_at")}
    assert (after["chunks"], after["links"]) == (before["chunks"], before["links"])


@pytest.mark.parametrize(
    ("content", "filename", "metadata", "code", "words"),
    [
        (documents.truncated_pdf(), "broken.pdf", {}, "CORRUPT_FILE", "PDF"),
        (documents.encrypted_pdf(), "secret.pdf", {}, "ENCRYPTED", "password"),
        (b"", "empty.txt", {}, "EMPTY_FILE", "empty"),
        (b"hello", "bad-date.txt", {"date_created": "someday"}, "METADATA_INVALID", "date_created"),
    ],
)
async def test_a_bad_document_fails_at_once_with_a_readable_reason(
    ingestor, broker, store, settings, content, filename, metadata, code, words
):
    async with listen(settings.rabbitmq_url, "document.*") as listener:
        event = await queue(broker, store, content, filename, metadata=metadata)
        [outcome] = await listener.collect(outcomes_for(event), timeout=30)
    assert outcome["event_type"] == "docintake.document.failed"
    assert outcome["data"]["error_code"] == code
    assert words.lower() in outcome["data"]["message"].lower()
    assert outcome["data"]["retryable"] is False and outcome["data"]["attempts"] == 1


async def test_documents_of_a_cancelled_batch_are_not_parsed(ingestor, broker, store, settings):
    batch_id = uuid4()
    await publish(broker, BatchCancelled(batch_id=batch_id))
    async with listen(settings.rabbitmq_url, "document.*") as listener:
        time.sleep(0.5)
        event = await queue(broker, store, unique_text("Cancelled"), "c.md", batch_id=batch_id)
        assert outcomes_for(event)(await listener.quiet_for(3.0)) == []


def servers(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "deploy" / "native" / "servers.py"), *args], check=True)


async def test_neo4j_stopped_for_a_while_is_retried_then_ingested(ingestor, broker, store, graph, settings):
    servers("stop", "neo4j")
    try:
        async with listen(settings.rabbitmq_url, "document.*") as listener:
            event = await queue(broker, store, unique_text("Outage"), "outage.md")
            assert outcomes_for(event)(await listener.quiet_for(6.0)) == []
            servers("start", "neo4j")
            [outcome] = await listener.collect(outcomes_for(event), timeout=90)
    finally:
        servers("start", "neo4j")
    assert outcome["event_type"] == "docintake.document.ingested", outcome
    assert (await graph_of(graph, event.data.document.sha256))["chunks"] == outcome["data"]["chunks"]


async def test_two_ingestor_processes_drain_one_queue_together(ingestor, broker, store, graph, settings, tmp_path):
    second = ServiceProcess("ingestor-2", "docintake-ingestor", tmp_path)
    second.start()
    try:
        async with listen(settings.rabbitmq_url, "document.*") as listener:
            events = [await queue(broker, store, unique_text(f"Shared {i}"), f"s{i}.md") for i in range(30)]
            await listener.collect(lambda received: len(outcomes_for(*events)(received)) == 30, timeout=120)
            await listener.quiet_for(1.0)
        assert all(e["event_type"] == "docintake.document.ingested" for e in outcomes_for(*events)(listener.events))
    finally:
        second.stop()
    handled = [process.log_file.read_text().count('"document ingested"') for process in (ingestor, second)]
    assert all(count > 0 for count in handled), handled
    records, _, _ = await graph.execute_query(
        "MATCH (d:Document) WHERE d.sha256 IN $shas RETURN count(d) AS n",
        shas=[e.data.document.sha256 for e in events])
    assert records[0]["n"] == 30
