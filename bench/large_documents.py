"""Large-document benchmark: a CSV and a plain text file, generated while they are sent, through an ingestor process.

    .venv/bin/python bench/large_documents.py [--csv-mb 200] [--text-mib 512]

Streams each file into MinIO as the gateway would (the generator never holds it whole), queues it, and waits for its
outcome from an ingestor process of its own. Prints for each its size, chunks, seconds from queued to outcome, MB/s,
and the ingestor's peak RSS with its parser processes; then deletes the documents' sources (removed in bounded
transactions) and prints how long that took. tests/ingestor/test_large_documents.py ingests the same two files.
"""

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.system import Usage  # noqa: E402
from deploy.native.services import ServiceProcess  # noqa: E402
from docintake.ingestor.settings import IngestorSettings  # noqa: E402
from docintake.platform.graphdb import open_driver  # noqa: E402
from docintake.platform.messaging import make_broker, publish  # noqa: E402
from docintake.platform.storage import ObjectStore  # noqa: E402
from tests.support.broker import listen  # noqa: E402
from tests.support.http import free_port  # noqa: E402
from tests.support.ingest import outcomes_for  # noqa: E402
from tests.support.large import MB, csv_blocks, staged, text_blocks  # noqa: E402

MiB = 1024 * 1024


def large_ingestor(run_dir: Path) -> ServiceProcess:
    port = free_port()
    return ServiceProcess("ingestor", "docintake-ingestor", run_dir,
                          env={"DOCINTAKE_INGESTOR_METRICS_PORT": str(port)},
                          ready_url=f"http://127.0.0.1:{port}/readyz")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv-mb", type=int, default=200)
    parser.add_argument("--text-mib", type=int, default=512)
    arguments = parser.parse_args()
    settings = IngestorSettings()
    store = ObjectStore(settings)
    await store.ensure_bucket()
    broker = make_broker(settings.rabbitmq_url)
    await broker.connect()
    ingestor = large_ingestor(Path(tempfile.mkdtemp(prefix="docintake-bench-large-")))
    memory = Usage([ingestor])
    ingestor.start()
    sampler = asyncio.create_task(memory.sample_every(0.25))
    collection = f"bench-large-{time.time_ns()}"
    try:
        for name, blocks in (("large.csv", csv_blocks(arguments.csv_mb * MB, collection)),
                             ("large.txt", text_blocks(arguments.text_mib * MiB, collection))):
            event = await staged(store, blocks, name, collection)
            async with listen(settings.rabbitmq_url, "document.*") as listener:
                started = time.perf_counter()
                await publish(broker, event)
                [outcome] = await listener.collect(outcomes_for(event), timeout=3600)
                elapsed = time.perf_counter() - started
            size = event.data.document.size
            print(f"{name}: {size / MB:.0f} MB ({size / MiB:.0f} MiB), {outcome['event_type'].rsplit('.', 1)[-1]}, "
                  f"{outcome['data'].get('chunks')} chunks, {elapsed:.1f} s queued to outcome, "
                  f"{size / MB / elapsed:.1f} MB/s; ingestor peak RSS so far "
                  f"{memory.peaks['ingestor'] / MiB:.0f} MiB", flush=True)
            await store.remove([event.data.document.key])
        driver = open_driver(settings)
        started = time.perf_counter()
        from docintake.ingestor.adapters.knowledge_graph import KnowledgeGraph
        from docintake.ingestor.adapters.staged_writes import StagedWriter
        graph = KnowledgeGraph(driver, staged=StagedWriter(driver))
        for name in ("large.csv", "large.txt"):
            current = await driver.execute_query(
                "MATCH (:Source {collection: $c, path: $p})-[:CURRENT]->(d:Document) RETURN d.sha256 AS sha",
                c=collection, p=name)
            for record in current.records:
                await graph.delete_source(collection, name, record["sha"])
        print(f"both sources deleted, their versions removed, in {time.perf_counter() - started:.1f} s")
        await driver.close()
    finally:
        sampler.cancel()
        ingestor.stop()
        await broker.stop()
    print(f"ingestor peak RSS summed over its parser processes: {memory.peaks['ingestor'] / MiB:.0f} MiB "
          f"(PSS {memory.pss_peaks['ingestor'] / MiB:.0f} MiB)")
    print(memory.summary())


if __name__ == "__main__":
    asyncio.run(main())
