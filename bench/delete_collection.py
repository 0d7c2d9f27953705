"""Deletion benchmark: a collection of N small documents ingested through the system, then deleted.

    .venv/bin/python -m deploy.native.isolated .venv/bin/python bench/delete_collection.py [--documents 1000]

Starts the three services as their own processes (against the servers of DOCINTAKE_*, on ports of
their own), uploads N small Markdown files (each its own content, under folders) into a fresh
collection in batches of 100 and waits until they are ingested; then deletes the collection and
prints the seconds until the 202 (the gateway reading the graph and announcing the command) and
until the deletion's status is completed (every source, its chunks, documents and metadata nodes
and raw objects removed, each DocumentRemoved out), and checks that nothing of it is left.
"""

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.native.services import system  # noqa: E402
from docintake.platform.graphdb import open_driver  # noqa: E402
from docintake.platform.settings import Settings  # noqa: E402
from docintake.platform.storage import ObjectStore  # noqa: E402
from tests.support.batches import INGEST  # noqa: E402
from tests.support.http import free_port  # noqa: E402

BATCH_SIZE = 100


def documents(n: int, run: str) -> list[tuple[str, bytes]]:
    return [(f"part-{i // 100}/page-{i}.md",
             f"# Page {i} of {run}\n\n{f'Paragraph about topic {i} in run {run}. ' * 40}\n".encode())
            for i in range(n)]


async def finished(gateway: httpx.AsyncClient, path: str, timeout: float = 3600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await gateway.get(path)
        if response.status_code == 200 and response.json()["status"] != "in_progress":
            return response.json()
        await asyncio.sleep(0.1)
    raise SystemExit(f"{path} did not finish within {timeout} s")


async def ingest(gateway: httpx.AsyncClient, collection: str, files: list[tuple[str, bytes]]) -> list[str]:
    batch_ids = []
    for start in range(0, len(files), BATCH_SIZE):
        parts = [("files", (path, content, "text/markdown")) for path, content in files[start:start + BATCH_SIZE]]
        response = await gateway.post(f"{INGEST}/batch", params={"collection": collection}, files=parts)
        response.raise_for_status()
        batch_ids.append(response.json()["batch_id"])
    for batch_id in batch_ids:
        status = await finished(gateway, f"{INGEST}/batch/{batch_id}/status")
        if status["status"] != "completed":
            raise SystemExit(f"batch {batch_id} ended {status['status']}")
    return batch_ids


async def left_of(settings: Settings, collection: str, batch_ids: list[str]) -> tuple[int, int]:
    driver = open_driver(settings)
    try:
        records, _, _ = await driver.execute_query(
            "MATCH (s:Source {collection: $c}) RETURN count(s) AS n", c=collection)
        sources = records[0]["n"]
    finally:
        await driver.close()
    store = ObjectStore(settings)
    objects = sum([len(await store.keys(f"batches/{batch_id}/")) for batch_id in batch_ids])
    return sources, objects


async def main(arguments: argparse.Namespace) -> None:
    settings = Settings()
    gateway_port, status_port = free_port(), free_port()
    services = system(settings, arguments.ingestors, env={
        "DOCINTAKE_GATEWAY_PORT": str(gateway_port), "DOCINTAKE_STATUS_PORT": str(status_port),
        "DOCINTAKE_INGESTOR_METRICS_PORT": "0",
    }, run_dir=Path(tempfile.mkdtemp(prefix="docintake-bench-")))
    run = uuid4().hex[:8]
    collection = f"bench-delete-{run}"
    try:
        for service in services:
            service.start()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}",
                                     headers={"X-API-Key": settings.api_key_list[0]}, timeout=300) as gateway:
            started = time.perf_counter()
            batch_ids = await ingest(gateway, collection, documents(arguments.documents, run))
            print(f"ingested {arguments.documents} documents in {time.perf_counter() - started:.1f} s")
            before = await left_of(settings, collection, batch_ids)

            started = time.perf_counter()
            answer = await gateway.delete(f"/api/v1/collections/{collection}")
            answered = time.perf_counter() - started
            answer.raise_for_status()
            deletion = await finished(gateway, f"/api/v1/deletions/{answer.json()['deletion_id']}")
            done = time.perf_counter() - started
    finally:
        for service in reversed(services):
            service.stop()
    after = await left_of(settings, collection, batch_ids)
    print(f"deleting a {answer.json()['total_sources']}-document collection: 202 after {answered:.2f} s, "
          f"{deletion['status']} ({deletion['removed_count']} removed) after {done:.2f} s")
    print(f"sources and raw objects: {before} before, {after} after")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--ingestors", type=int, default=1)
    asyncio.run(main(parser.parse_args()))
