"""The ingestor process against real RabbitMQ, MinIO and Neo4j."""

import asyncio
import json
import time
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from deploy.native import isolated
from deploy.native.services import ServiceProcess
from docintake.contracts.events import BatchCancelled
from docintake.platform.messaging import publish, publish_all
from tests.support import documents
from tests.support.broker import listen
from tests.support.ingest import outcomes_for, queue, stage


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
        RETURN d {.*} AS document, chunks, links,
               collect(DISTINCT author.name) AS authors, collect(DISTINCT tag.name) AS tags
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


def long_pdf(title: str, pages: int = 60) -> bytes:
    return documents.pdf([f"{title}, page {n}. " + "Knowledge graphs link documents by author. " * 50
                          for n in range(1, pages + 1)])


def skipped_in(log_file: Path, batch_id: UUID) -> int:
    """How many documents of the batch the ingestor's log says it skipped as cancelled."""
    lines = (json.loads(line) for line in log_file.read_bytes().splitlines() if line.startswith(b"{"))
    return sum(1 for line in lines
               if line.get("message") == "batch cancelled; document skipped" and line.get("batch_id") == str(batch_id))


async def test_a_cancelled_batch_stops_though_its_documents_are_queued_ahead_of_the_cancellation(
    ingestor, broker, store, graph, settings
):
    batch_id = uuid4()
    staged = [await stage(store, long_pdf(f"Long {i} {batch_id}"), f"long-{i}.pdf", batch_id=batch_id)
              for i in range(30)]
    mine = outcomes_for(*staged)
    async with listen(settings.rabbitmq_url, "document.*") as listener:
        await publish_all(broker, staged)
        await listener.collect(mine, timeout=60)
        await publish(broker, BatchCancelled(batch_id=batch_id))
        await listener.collect(
            lambda events: len(mine(events)) + skipped_in(ingestor.log_file, batch_id) >= len(staged), timeout=60
        )
        await listener.quiet_for(1.0)
    ingested = mine(listener.events)
    assert all(e["event_type"] == "docintake.document.ingested" for e in ingested), ingested
    assert len(ingested) + skipped_in(ingestor.log_file, batch_id) == len(staged)
    assert len(ingested) < len(staged) // 2, f"{len(ingested)} of {len(staged)} ingested after the cancellation"
    records, _, _ = await graph.execute_query(
        "MATCH (d:Document) WHERE d.sha256 IN $shas RETURN collect(d.sha256) AS stored",
        shas=[e.data.document.sha256 for e in staged])
    assert sorted(records[0]["stored"]) == sorted(e["data"]["sha256"] for e in ingested)


def parser_workers(ingestor: ServiceProcess) -> list[psutil.Process]:
    """The ingestor's parser processes: the children of its forkserver."""
    [forkserver] = [child for child in psutil.Process(ingestor.pid()).children()
                    if "forkserver" in " ".join(child.cmdline())]
    return forkserver.children()


def busy(worker: psutil.Process) -> float:
    times = worker.cpu_times()
    return times.user + times.system


async def test_a_parser_process_killed_mid_parse_fails_its_document_and_the_next_one_is_ingested(
    ingestor, broker, store, settings
):
    async with listen(settings.rabbitmq_url, "document.*") as listener:
        warm_up = await queue(broker, store, unique_text("Warm-up"), "warm-up.md")  # the pool starts on first use
        await listener.collect(outcomes_for(warm_up))
        workers = parser_workers(ingestor)
        idle = {worker.pid: busy(worker) for worker in workers}
        doomed = await queue(broker, store, long_pdf(f"Doomed {uuid4()}", pages=800), "doomed.pdf")
        for _ in range(200):
            parsing = [worker for worker in workers if busy(worker) > idle[worker.pid] + 0.2]
            if parsing:
                break
            await asyncio.sleep(0.05)
        [worker] = parsing
        worker.kill()  # as the OOM killer would
        [failure] = await listener.collect(outcomes_for(doomed), timeout=30)
        survivor = await queue(broker, store, unique_text("Survivor"), "survivor.md")
        [success] = await listener.collect(outcomes_for(survivor), timeout=30)
    assert failure["event_type"] == "docintake.document.failed", failure
    assert failure["data"]["error_code"] == "PARSER_CRASHED"
    assert "killed by signal 9" in failure["data"]["message"]
    assert success["event_type"] == "docintake.document.ingested", success


def documents_ingested(metrics: str) -> float:
    return sum(sample.value for family in text_string_to_metric_families(metrics)
               for sample in family.samples
               if sample.name == "docintake_ingestor_documents_total" and sample.labels == {"outcome": "ingested"})


async def test_the_ingestor_serves_its_metrics(ingestor, broker, store, settings):
    url = f"http://127.0.0.1:{ingestor.env['DOCINTAKE_INGESTOR_METRICS_PORT']}/metrics"
    async with httpx.AsyncClient(timeout=10) as http:
        before = (await http.get(url)).text
        assert "docintake_ingestor_documents_total" in before and "docintake_ingestor_retries_total" in before
        async with listen(settings.rabbitmq_url, "document.*") as listener:
            event = await queue(broker, store, unique_text("Counted"), "counted.md")
            await listener.collect(outcomes_for(event))
        for _ in range(50):  # counted just after the outcome is published
            after = (await http.get(url)).text
            if documents_ingested(after) > documents_ingested(before):
                break
            await asyncio.sleep(0.1)
    assert documents_ingested(after) == documents_ingested(before) + 1


async def test_neo4j_stopped_for_a_while_is_retried_then_ingested(ingestor, broker, store, graph, settings):
    isolated.servers("stop", "neo4j")
    try:
        async with listen(settings.rabbitmq_url, "document.*") as listener:
            event = await queue(broker, store, unique_text("Outage"), "outage.md")
            assert outcomes_for(event)(await listener.quiet_for(6.0)) == []
            async with httpx.AsyncClient(timeout=10) as http:
                readiness = await http.get(ingestor.ready_url)
            assert readiness.status_code == 503 and readiness.json()["checks"] == {
                "broker": True, "storage": True, "graph": False}
            isolated.servers("start", "neo4j")
            [outcome] = await listener.collect(outcomes_for(event), timeout=90)
    finally:
        isolated.servers("start", "neo4j")
    assert outcome["event_type"] == "docintake.document.ingested", outcome
    assert (await graph_of(graph, event.data.document.sha256))["chunks"] == outcome["data"]["chunks"]
    assert ingestor.ready()


async def test_two_ingestor_processes_drain_one_queue_together(ingestor, broker, store, graph, settings, tmp_path):
    second = ServiceProcess("ingestor-2", "docintake-ingestor", tmp_path, env={"DOCINTAKE_INGESTOR_METRICS_PORT": "0"})
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
