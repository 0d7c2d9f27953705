"""End-to-end benchmark: the whole system on a generated mixed set of small documents.

    make bench BENCH_ARGS="--documents 1000 --ingestors 1"
    .venv/bin/python bench/end_to_end.py [--documents 1000] [--ingestors 1] [--uploads 2]

Starts the three services as their own processes (against the servers of DOCINTAKE_*, on
ports of their own), uploads the documents through the gateway's public API in batches of
100, `--uploads` batches at a time, and waits until every batch's BatchCompleted is out.
Prints documents per minute end to end, each document's latency (from the start of its
batch's upload to its DocumentIngested or DocumentFailed) at p50 and p95, the peak RSS of
each service with its worker processes, and the single-process floor: the same fetch, parse,
chunk and graph write in one plain loop with no broker, HTTP or status service.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import floor, per_minute, staged  # noqa: E402
from deploy.native.services import ServiceProcess, system  # noqa: E402
from docintake.ingestor.settings import IngestorSettings  # noqa: E402
from docintake.platform.storage import ObjectStore  # noqa: E402
from tests.support.batches import INGEST  # noqa: E402
from tests.support.broker import listen  # noqa: E402
from tests.support.documents import mixed_set  # noqa: E402
from tests.support.http import free_port  # noqa: E402

BATCH_SIZE = 100
MiB = 1024 * 1024


class PeakMemory:
    """The highest RSS of each service's process tree (the ingestor's parser pool included)."""

    def __init__(self, services: list[ServiceProcess]) -> None:
        self.services = services
        self.peaks = {service.name: 0 for service in services}

    async def sample_every(self, seconds: float) -> None:
        while True:
            for service in self.services:
                self.peaks[service.name] = max(self.peaks[service.name], self._tree_rss(service.pid()))
            await asyncio.sleep(seconds)

    @staticmethod
    def _tree_rss(pid: int | None) -> int:
        if pid is None:
            return 0
        try:
            root = psutil.Process(pid)
            return sum(process.memory_info().rss for process in (root, *root.children(recursive=True)))
        except psutil.Error:
            return 0


async def upload_all(gateway: httpx.AsyncClient, documents: list[tuple[str, bytes]],
                     uploads_at_once: int) -> dict[str, float]:
    """Upload in batches of 100; returns each batch id with the moment its upload started."""
    gate = asyncio.Semaphore(uploads_at_once)
    started_at: dict[str, float] = {}

    async def one(batch: list[tuple[str, bytes]]) -> None:
        async with gate:
            started = time.perf_counter()
            response = await gateway.post(f"{INGEST}/batch", files=[
                ("files", (name, content, "application/octet-stream")) for name, content in batch
            ])
            response.raise_for_status()
            started_at[response.json()["batch_id"]] = started

    await asyncio.gather(*(one(documents[i:i + BATCH_SIZE]) for i in range(0, len(documents), BATCH_SIZE)))
    return started_at


async def through_the_system(settings: IngestorSettings, documents: list[tuple[str, bytes]],
                             arguments: argparse.Namespace) -> tuple[float, list[float], int, dict[str, int]]:
    gateway_port, status_port = free_port(), free_port()
    services = system(settings, arguments.ingestors, env={
        "DOCINTAKE_GATEWAY_PORT": str(gateway_port), "DOCINTAKE_STATUS_PORT": str(status_port),
        "DOCINTAKE_INGESTOR_METRICS_PORT": "0",
    }, run_dir=Path(tempfile.mkdtemp(prefix="docintake-bench-")))
    memory = PeakMemory(services)
    sampler = asyncio.create_task(memory.sample_every(0.25))
    try:
        for service in services:
            service.start()
        async with (
            listen(settings.rabbitmq_url, "document.ingested", "document.failed", "batch.completed") as listener,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}",
                              headers={"X-API-Key": settings.api_key_list[0]},
                              timeout=300) as gateway,
        ):
            started = time.perf_counter()
            batches = await upload_all(gateway, documents, arguments.uploads)
            arrivals: list[float] = []  # when each received event arrived, in order

            def all_completed(events: list[dict]) -> bool:
                arrivals.extend(time.perf_counter() for _ in events[len(arrivals):])
                completed = {e["batch_id"] for e in events if e["event_type"].endswith("batch.completed")}
                return completed >= batches.keys()

            events = await listener.collect(lambda received: all_completed(received) and received, timeout=3600)
            elapsed = time.perf_counter() - started
    finally:
        sampler.cancel()
        for service in reversed(services):
            service.stop()
    first_outcomes = {}
    for event, arrived in zip(events, arrivals, strict=True):
        if event["batch_id"] in batches and event["event_type"].split(".")[1] == "document":
            first_outcomes.setdefault(event["document_id"], (event, arrived))
    latencies = [arrived - batches[event["batch_id"]] for event, arrived in first_outcomes.values()]
    failed = sum(1 for event, _ in first_outcomes.values() if event["event_type"].endswith("failed"))
    return elapsed, latencies, failed, memory.peaks


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

    elapsed, latencies, failed, peaks = await through_the_system(settings, documents, arguments)
    rate = per_minute(len(documents), elapsed)
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"end to end: {len(documents)} documents in {elapsed:.1f} s = {rate:.0f} documents/min "
          f"({failed} failed, {len(latencies)} outcomes)")
    print(f"latency from batch upload start to outcome: p50 {quantiles[49]:.2f} s, p95 {quantiles[94]:.2f} s")
    print("peak RSS: " + ", ".join(f"{name} {peak / MiB:.0f} MiB" for name, peak in peaks.items()))

    if not arguments.no_floor:
        store = ObjectStore(settings)
        floor_seconds = await floor(settings, store, await staged(store, arguments.documents, seed + 1))
        floor_rate = per_minute(arguments.documents, floor_seconds)
        print(f"floor (one plain loop: fetch, parse, chunk, write; no broker): {floor_rate:.0f} documents/min; "
              f"end to end is {rate / floor_rate:.2f} x the floor")


if __name__ == "__main__":
    asyncio.run(main())
