"""Ingestor benchmark: documents per minute through the broker with 1 and 2 ingestor processes,
next to the floor: the same work in one plain loop with no broker.

    .venv/bin/python bench/ingest.py [--documents 300] [--processes 1 2]

The documents are a generated mixed set of small documents (1 to 10 pages: PDF, DOCX, TXT,
Markdown, CSV, HTML), staged in MinIO as the gateway would. Each run uses its own seed, so
every run writes new Document nodes.
"""

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.system import per_minute  # noqa: E402
from deploy.native.services import ServiceProcess  # noqa: E402
from deploy.native.settings import DeploySettings  # noqa: E402
from docintake.contracts.metadata import DocumentMetadata  # noqa: E402
from docintake.ingestor.adapters.knowledge_graph import KnowledgeGraph, version_parameters  # noqa: E402
from docintake.ingestor.adapters.parsers.formats import parse_file  # noqa: E402
from docintake.ingestor.adapters.spool import chunk_row  # noqa: E402
from docintake.ingestor.domain.chunking import chunk_sections  # noqa: E402
from docintake.ingestor.settings import IngestorSettings  # noqa: E402
from docintake.platform.graphdb import open_driver  # noqa: E402
from docintake.platform.messaging import declare_topology, make_broker, publish_all  # noqa: E402
from docintake.platform.storage import ObjectStore  # noqa: E402
from tests.support.broker import listen  # noqa: E402
from tests.support.documents import mixed_set  # noqa: E402
from tests.support.ingest import outcomes_for, stage  # noqa: E402


async def staged(store: ObjectStore, count: int, seed: int):
    documents = list(mixed_set(count, seed))
    metadata = {"author": "Bench", "tags": "bench"}
    return [await stage(store, content, name, metadata=metadata) for name, content in documents]


async def floor(settings: IngestorSettings, store: ObjectStore, events) -> float:
    """Fetch, parse and chunk each document in turn, in this one process, and write them to the graph
    as the ingestor does: write_batch_size documents a transaction."""
    driver = open_driver(settings)
    graph = KnowledgeGraph(driver, settings.neo4j_database)
    await graph.ensure_schema()
    started = time.perf_counter()
    pending: list[dict] = []
    with tempfile.TemporaryDirectory() as scratch:
        for event in events:
            ref = event.data.document
            path = Path(scratch) / "document"
            await store.download(ref.key, path)
            parsed = parse_file(path, ref.filename, settings.max_expanded_bytes)
            chunks = chunk_sections(parsed.sections, settings.chunk_size, settings.chunk_overlap)
            metadata = DocumentMetadata.validate_raw(ref.metadata)
            pending.append({**version_parameters(ref, str(event.batch_id), metadata, parsed),
                            "chunks": [chunk_row(chunk) for chunk in chunks]})
            if len(pending) == settings.write_batch_size:
                await graph.write_documents(pending)
                pending = []
        if pending:
            await graph.write_documents(pending)
    elapsed = time.perf_counter() - started
    await driver.close()
    return elapsed


async def through_broker(settings: IngestorSettings, events, processes: int) -> tuple[float, int]:
    ingestors = [
        ServiceProcess(f"ingestor-bench-{n}", "docintake-ingestor", DeploySettings().state_dir / "bench",
                       env={"DOCINTAKE_LOG_LEVEL": "INFO"})
        for n in range(processes)
    ]
    for ingestor in ingestors:
        ingestor.start()
    broker = make_broker(settings.rabbitmq_url)
    await broker.connect()
    await declare_topology(broker)
    try:
        async with listen(settings.rabbitmq_url, "document.ingested", "document.failed") as listener:
            started = time.perf_counter()
            await publish_all(broker, list(events))
            outcomes = await listener.collect(lambda received: len(outcomes_for(*events)(received)) >= len(events) and
                                              outcomes_for(*events)(received), timeout=1800)
            elapsed = time.perf_counter() - started
    finally:
        await broker.stop()
        for ingestor in ingestors:
            ingestor.stop()
    failed = sum(1 for outcome in outcomes if outcome["event_type"].endswith("failed"))
    return elapsed, failed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    settings = IngestorSettings()
    store = ObjectStore(settings)
    await store.ensure_bucket()
    seed = time.time_ns() % 10**9

    floor_seconds = await floor(settings, store, await staged(store, args.documents, seed))
    floor_rate = per_minute(args.documents, floor_seconds)
    print(f"floor (one plain loop, no broker): {floor_rate:7.0f} documents/min")
    for processes in args.processes:
        events = await staged(store, args.documents, seed + processes)
        seconds, failed = await through_broker(settings, events, processes)
        rate = per_minute(args.documents, seconds)
        print(f"broker, {processes} ingestor process(es) x {settings.workers} workers: {rate:7.0f} documents/min "
              f"({rate / floor_rate:.2f} x floor, {failed} failed)")


if __name__ == "__main__":
    asyncio.run(main())
