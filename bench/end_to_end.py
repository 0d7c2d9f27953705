"""End-to-end benchmark: the whole system on a generated mixed set of small documents.

    make bench BENCH_ARGS="--documents 1000 --ingestors 1"
    .venv/bin/python bench/end_to_end.py [--documents 1000] [--ingestors 1] [--uploads 2]

Starts the three services as their own processes (against the servers of DOCINTAKE_*, on
ports of their own), uploads the documents through the gateway's public API in batches of
100, `--uploads` batches at a time, and waits until every batch's BatchCompleted is out.
Prints documents per minute end to end, each document's latency (from the start of its
batch's upload to its DocumentIngested or DocumentFailed) at p50 and p95, the peak RSS of
each service with its worker processes, the CPU seconds of each service and server, and the
single-process floor: the same fetch, parse, chunk and graph write (in transactions of
DOCINTAKE_WRITE_BATCH_SIZE documents) in one plain loop with no broker, HTTP or status service.
"""

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import floor, staged  # noqa: E402
from bench.system import MiB, ingest, per_minute, running_system  # noqa: E402
from docintake.ingestor.settings import IngestorSettings  # noqa: E402
from docintake.platform.storage import ObjectStore  # noqa: E402
from tests.support.documents import mixed_set  # noqa: E402


async def through_the_system(settings: IngestorSettings, documents: list[tuple[str, bytes]],
                             arguments: argparse.Namespace) -> tuple[float, list[float], int, str]:
    async with running_system(settings, arguments.ingestors) as running:
        ingested = await ingest(running, documents, arguments.uploads)
    batches = ingested.batches
    first_outcomes = {}
    for event, arrived in ingested.events:
        if event["batch_id"] in batches and event["event_type"].split(".")[1] == "document":
            first_outcomes.setdefault(event["document_id"], (event, arrived))
    latencies = [arrived - batches[event["batch_id"]] for event, arrived in first_outcomes.values()]
    failed = sum(1 for event, _ in first_outcomes.values() if event["event_type"].endswith("failed"))
    return ingested.seconds, latencies, failed, running.usage.summary()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--ingestors", type=int, default=1, help="ingestor processes")
    parser.add_argument("--uploads", type=int, default=2, help="batches uploading at once")
    parser.add_argument("--no-floor", action="store_true", help="skip the single-process floor")
    arguments = parser.parse_args()
    settings = IngestorSettings()
    seed = time.time_ns() % 10**9
    documents = list(mixed_set(arguments.documents, seed))
    size = sum(len(content) for _, content in documents)
    print(f"{len(documents)} generated documents (PDF, DOCX, TXT, Markdown, CSV, HTML; 1-10 pages), "
          f"{size / MiB:.1f} MiB; {arguments.ingestors} ingestor process(es) x {settings.workers} parser workers")

    elapsed, latencies, failed, memory = await through_the_system(settings, documents, arguments)
    rate = per_minute(len(documents), elapsed)
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"end to end: {len(documents)} documents in {elapsed:.1f} s = {rate:.0f} documents/min "
          f"({failed} failed, {len(latencies)} outcomes)")
    print(f"latency from batch upload start to outcome: p50 {quantiles[49]:.2f} s, p95 {quantiles[94]:.2f} s")
    print(memory)

    if not arguments.no_floor:
        store = ObjectStore(settings)
        floor_seconds = await floor(settings, store, await staged(store, arguments.documents, seed + 1))
        floor_rate = per_minute(arguments.documents, floor_seconds)
        print(f"floor (one plain loop: fetch, parse, chunk, write; no broker): {floor_rate:.0f} documents/min; "
              f"end to end is {rate / floor_rate:.2f} x the floor")


if __name__ == "__main__":
    asyncio.run(main())
