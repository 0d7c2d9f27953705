"""Many replicas on one machine: 2 gateways, 3 ingestors and 2 status services as processes on loopback.

The status services share the progress store and the queue docintake.status (competing consumers:
each event reaches one of them, in no promised order across them); the ingestors share
docintake.ingestor. 20 batches of 50 documents go in through both gateways at once; one ingestor and
one status service are killed with SIGKILL half way through. What is asserted at the end:

- every batch `completed` with 50 of 50 ingested and none failed, read from each status service
  directly and through each gateway, the same answer everywhere;
- every document once in the graph (one :Document per uploaded content's SHA-256, its chunks each once);
- exactly one BatchCompleted per batch as a plain AMQP subscriber on docintake.events sees them:
  one event_id per batch (subscribers deduplicate on it, as docs/events.md says), every copy of it
  the same event, its counts the final ones. A copy delivered twice (at least once delivery, e.g. a
  status service killed between its publish and marking it published) is not a second completion;
  a second event_id would be;
- nothing dead-lettered.
"""

import asyncio
import json
import signal
import socket
import time
from collections import defaultdict
from hashlib import sha256

import aio_pika
import httpx
import pytest

from deploy.native.services import ServiceProcess, system
from docintake.contracts.topology import DEAD_LETTER_QUEUE_NAME
from docintake.platform.graphdb import open_driver
from tests.support.batches import INGEST, TERMINAL, csv_mapping, upload
from tests.support.broker import EventListener, listen
from tests.support.eventually import eventually

pytestmark = pytest.mark.slow

BATCHES, DOCUMENTS_PER_BATCH = 20, 50
GATEWAYS, INGESTORS, STATUS_SERVICES = 2, 3, 2
SWEEP_INTERVAL_SECONDS = 1.0
AUTHORS = ["Ada Lovelace", "Grace Hopper", "Edsger Dijkstra"]


def free_port_ranks(*offsets: int) -> int:
    """A base port such that base + each offset is free now."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1] // 100 * 100
        if base + max(offsets) > 65535:
            continue
        try:
            for offset in offsets:
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        return base
    raise RuntimeError("no free run of ports")


class Replicas:
    def __init__(self, settings, run_dir):
        # gateways at base, base+10; ingestors at base+1, +11, +21; status services at base+2, +12
        base = free_port_ranks(0, 10, 1, 11, 21, 2, 12)
        self.env = {
            "DOCINTAKE_GATEWAY_PORT": str(base),
            "DOCINTAKE_INGESTOR_METRICS_PORT": str(base + 1),
            "DOCINTAKE_STATUS_PORT": str(base + 2),
            # nothing stalls for want of an ingestor here: a timed-out document would be a finding of its own
            "DOCINTAKE_STALL_TIMEOUT_SECONDS": "300",
            # both status services re-publish unmarked completions every second, side by side
            "DOCINTAKE_SWEEP_INTERVAL_SECONDS": str(SWEEP_INTERVAL_SECONDS),
            "DOCINTAKE_REQUIRED_METADATA": "author",
        }
        self.api_key = settings.api_key_list[0]
        self.processes = system(settings, INGESTORS, self.env, run_dir, gateways=GATEWAYS,
                                status_services=STATUS_SERVICES)

    def process(self, name: str) -> ServiceProcess:
        return next(p for p in self.processes if p.name == name)

    def of_kind(self, kind: str) -> list[ServiceProcess]:
        return [p for p in self.processes if p.name.startswith(kind + "-")]

    def client(self, process: ServiceProcess) -> httpx.AsyncClient:
        port = process.env["DOCINTAKE_GATEWAY_PORT" if process.name.startswith("gateway") else "DOCINTAKE_STATUS_PORT"]
        return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": self.api_key},
                                 timeout=60)

    async def start(self) -> "Replicas":
        """Kind by kind (status services, ingestors, gateways), the replicas of a kind side by side."""
        for kind in ("status", "ingestor", "gateway"):
            group = self.of_kind(kind)
            for process in group:
                process.start(wait=False)
            await asyncio.gather(*(asyncio.to_thread(process.wait_ready) for process in group))
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@pytest.fixture
async def replicas(settings, tmp_path):
    running = Replicas(settings, tmp_path)
    try:
        yield await running.start()
    finally:
        running.stop()


def batch_documents(tag: str, batch: int) -> list[tuple[str, bytes]]:
    """Small text documents, each with content of its own, a few of them long enough for several chunks."""
    return [
        (f"replica-{tag}-{batch:02d}-{number:02d}.{'md' if number % 2 else 'txt'}",
         (f"# Replica {tag} batch {batch} document {number}\n\n"
          + f"Replicated ingestion {tag}, batch {batch}, document {number}. " * (20 + 40 * (number % 3))).encode())
        for number in range(DOCUMENTS_PER_BATCH)
    ]


def events_of(listener: EventListener, batch_ids: set[str], kind: str) -> list[dict]:
    return [e for e in listener.events if e["event_type"] == f"docintake.{kind}" and e.get("batch_id") in batch_ids]


def ingested_documents(listener: EventListener, batch_ids: set[str]) -> set[str]:
    return {e["document_id"] for e in events_of(listener, batch_ids, "document.ingested")}


async def dead_letters(settings) -> int:
    connection = await aio_pika.connect(settings.rabbitmq_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(DEAD_LETTER_QUEUE_NAME, passive=True)
        return queue.declaration_result.message_count or 0
    finally:
        await connection.close()


async def read_graph(settings, query: str, **parameters) -> list[dict]:
    driver = open_driver(settings)
    try:
        records, _, _ = await driver.execute_query(query, parameters)
    finally:
        await driver.close()
    return [record.data() for record in records]


async def statuses(http: httpx.AsyncClient, batch_ids: list[str]) -> dict[str, dict | None]:
    """Each batch's status as one service answers it now; None where it does not answer 200."""
    async def one(batch_id: str) -> dict | None:
        try:
            response = await http.get(f"{INGEST}/batch/{batch_id}/status")
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None

    return dict(zip(batch_ids, await asyncio.gather(*(one(b) for b in batch_ids)), strict=True))


async def test_two_gateways_three_ingestors_two_status_services_with_one_of_each_killed_end_exact(
        replicas, settings):
    tag = str(time.time_ns())
    documents = [batch_documents(tag, batch) for batch in range(BATCHES)]
    hashes = {sha256(content).hexdigest() for batch in documents for _, content in batch}
    assert len(hashes) == BATCHES * DOCUMENTS_PER_BATCH  # every document's content is its own
    total = len(hashes)
    dead_before = await dead_letters(settings)
    gateways = replicas.of_kind("gateway")
    ingestor, status_service = replicas.process("ingestor-2"), replicas.process("status-2")
    started = time.monotonic()

    async with listen(settings.rabbitmq_url, "#") as listener:
        # 20 uploads at once, alternating between the two gateways
        clients = [replicas.client(gateway) for gateway in gateways]
        try:
            accepted = await asyncio.gather(*(
                upload(clients[batch % GATEWAYS], docs,
                       csv_mapping({name: {"author": AUTHORS[n % len(AUTHORS)]} for n, (name, _) in enumerate(docs)}))
                for batch, docs in enumerate(documents)
            ))
        finally:
            for http in clients:
                await http.aclose()
        batch_ids = {answer["batch_id"] for answer in accepted}
        assert len(batch_ids) == BATCHES
        uploaded = time.monotonic()

        # half way (by the ingested documents a subscriber has seen): SIGKILL one ingestor and one status service
        await listener.collect(lambda _: len(ingested_documents(listener, batch_ids)) >= total * 2 // 5, 240)
        killed_at = len(ingested_documents(listener, batch_ids))
        for process in (ingestor, status_service):
            process.signal(signal.SIGKILL)
        for process in (ingestor, status_service):
            assert await asyncio.to_thread(process.wait, 10) == -signal.SIGKILL
        # the survivors carry on alone for a while; then the status service comes back (the ingestor does not)
        await listener.collect(lambda _: len(ingested_documents(listener, batch_ids)) >= total * 3 // 5, 240)
        restarted_at = len(ingested_documents(listener, batch_ids))
        await asyncio.to_thread(status_service.start)

        def every_batch_completed(_: list[dict]) -> bool:
            return {e["batch_id"] for e in events_of(listener, batch_ids, "batch.completed")} == batch_ids

        await listener.collect(every_batch_completed, 300)
        finished = time.monotonic()

        # No sweeper will publish a completion again once every batch's is marked published; what a
        # sweeper took up just before that arrives within a sweep or two.
        async def unpublished() -> int:
            [row] = await read_graph(settings, "MATCH (b:IngestBatch) WHERE b.batch_id IN $ids "
                                     "AND b.completion_published = false RETURN count(b) AS n", ids=sorted(batch_ids))
            return row["n"]

        await eventually(unpublished, lambda n: n == 0, timeout=30)
        await listener.quiet_for(3 * SWEEP_INTERVAL_SECONDS)

    # --- exactly one BatchCompleted per batch, as a plain subscriber sees them
    completions: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for event in events_of(listener, batch_ids, "batch.completed"):
        completions[event["batch_id"]][event["event_id"]].append(event)
    copies = sum(len(same) for of_batch in completions.values() for same in of_batch.values())
    print(f"\n{BATCHES} batches of {DOCUMENTS_PER_BATCH}: uploaded in {uploaded - started:.1f} s, all completed "
          f"{finished - started:.1f} s after the first upload ({total / (finished - started) * 60:.0f} documents/min); "
          f"killed at {killed_at} ingested, status service back at {restarted_at}; "
          f"{copies} BatchCompleted deliveries for {len(completions)} batches")
    for batch_id in batch_ids:
        assert len(completions[batch_id]) == 1, f"{batch_id}: completions {dict(completions[batch_id])}"
        [same] = completions[batch_id].values()
        assert all(json.dumps(copy, sort_keys=True) == json.dumps(same[0], sort_keys=True) for copy in same)
        data = same[0]["data"]
        assert (data["status"], data["total_documents"], data["processed_count"], data["failed_count"]) == \
            ("completed", DOCUMENTS_PER_BATCH, DOCUMENTS_PER_BATCH, 0), data

    # --- every document ingested, none failed, as the events tell
    assert not events_of(listener, batch_ids, "document.failed")
    assert len(ingested_documents(listener, batch_ids)) == total

    # --- the same status for every batch from either status service (once their short read caches caught up)
    ordered = sorted(batch_ids)
    status_clients = [replicas.client(process) for process in replicas.of_kind("status")]
    gateway_clients = [replicas.client(process) for process in gateways]
    try:
        async def from_each_status_service() -> list[dict[str, dict | None]]:
            return [await statuses(http, ordered) for http in status_clients]

        def converged(answers: list[dict[str, dict | None]]) -> bool:
            first = answers[0]
            return all(s is not None and s["status"] in TERMINAL for s in first.values()) and \
                all(answer == first for answer in answers)

        answers = await eventually(from_each_status_service, converged, timeout=30, interval=0.3)
        for batch_id, final in answers[0].items():
            assert final is not None
            assert (final["status"], final["total_documents"], final["processed_count"], final["failed_count"]) == \
                ("completed", DOCUMENTS_PER_BATCH, DOCUMENTS_PER_BATCH, 0), final
            assert final["completed_at"] is not None and final["failed_documents"] == []
            [completion] = completions[batch_id].values()
            assert completion[0]["data"]["processing_time_seconds"] == pytest.approx(final["processing_time_seconds"])
        for http in gateway_clients:
            assert await statuses(http, ordered) == answers[0]
    finally:
        for http in status_clients + gateway_clients:
            await http.aclose()

    # --- every document once in the graph, each chunk once
    rows = await read_graph(settings, """
        MATCH (d:Document) WHERE d.sha256 IN $hashes
        OPTIONAL MATCH (c:Chunk)-[:PART_OF]->(d)
        WITH d, count(c) AS chunks, count(DISTINCT c.index) AS indexes, max(c.index) AS last
        RETURN d.sha256 AS sha256, d.batch_ids AS batch_ids, chunks, indexes, last
        """, hashes=sorted(hashes))
    per_hash = defaultdict(list)
    for row in rows:
        per_hash[row["sha256"]].append(row)
    assert set(per_hash) == hashes
    assert all(len(found) == 1 for found in per_hash.values())
    for row in rows:
        assert row["chunks"] >= 1 and row["chunks"] == row["indexes"] == row["last"] + 1, row
        assert len(set(row["batch_ids"]) & batch_ids) == 1, row

    # --- and no message given up on
    assert await dead_letters(settings) == dead_before
