"""Soak: does the cost stay flat as the graph grows? Many small documents, window after window.

    .venv/bin/python bench/soak.py [--documents 50000] [--window 5000] [--ingestors 1] [--uploads 2]

Starts the three services as their own processes once, then for each window of `--window` documents
generates a mixed set of small documents (PDF, DOCX, TXT, Markdown, CSV, HTML; 1 to 10 pages; before the
clock starts), uploads them through the gateway in batches of 100, `--uploads` batches at a time, and waits
for every batch's BatchCompleted. Prints each window's documents per minute with the nodes then in the graph,
and the last window's rate as a share of the first's (goal: within 10 %).
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.system import failed_count, ingest, per_minute, query_graph, running_system  # noqa: E402
from docintake.ingestor.settings import IngestorSettings  # noqa: E402
from tests.support.documents import mixed_set  # noqa: E402

GOAL = 0.10


async def nodes_in_graph(settings: IngestorSettings) -> int:
    [record] = await query_graph(settings, "MATCH (n) RETURN count(n) AS nodes")
    return record["nodes"]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=50_000)
    parser.add_argument("--window", type=int, default=5_000, help="documents per measured window")
    parser.add_argument("--ingestors", type=int, default=1, help="ingestor processes")
    parser.add_argument("--uploads", type=int, default=2, help="batches uploading at once")
    arguments = parser.parse_args()
    settings = IngestorSettings()
    seed = time.time_ns() % 10**9
    print(f"{arguments.documents} documents in windows of {arguments.window}, batches of 100, "
          f"{arguments.uploads} uploading at once; {arguments.ingestors} ingestor process(es) x "
          f"{settings.workers} parser workers; {await nodes_in_graph(settings)} nodes in the graph at the start",
          flush=True)
    rates: list[float] = []
    async with running_system(settings, arguments.ingestors, routing_keys=("batch.completed",)) as running:
        for window, first in enumerate(range(0, arguments.documents, arguments.window), start=1):
            documents = list(mixed_set(min(arguments.window, arguments.documents - first), seed + window))
            ingested = await ingest(running, documents, arguments.uploads)
            rates.append(per_minute(len(documents), ingested.seconds))
            print(f"documents {first + 1:>6}-{first + len(documents):<6} {ingested.seconds:7.1f} s  {rates[-1]:7.0f} "
                  f"documents/min  {failed_count(ingested.events)} failed  {await nodes_in_graph(settings):>10} nodes",
                  flush=True)
    print(running.usage.summary())
    change = rates[-1] / rates[0] - 1
    print(f"last window {rates[-1]:.0f}/min is {rates[-1] / rates[0]:.2f} x the first {rates[0]:.0f}/min "
          f"({change:+.0%}; goal: within {GOAL:.0%})")


if __name__ == "__main__":
    asyncio.run(main())
