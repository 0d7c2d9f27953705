"""A peer side by side: the same documents through docintake end to end and through unstructured-ingest's
local pipeline into its Neo4j destination, on the same machine and the same Neo4j.

    .venv/bin/python bench/peer.py [--documents 1000] [--ingestors 1] [--uploads 2] [--processes N] [--venv PATH]

Generates a mixed set of small documents (PDF, DOCX, TXT, Markdown, CSV, HTML; 1 to 10 pages). docintake: the
three services as their own processes, the documents uploaded through the gateway in batches of 100 and every
batch's BatchCompleted awaited. The peer: unstructured-ingest 1.12 in an environment of its own outside the
repository (bench/peer_venv.py, made with pip when missing), run by bench/peer_pipeline.py: local folder
source, fast strategy, basic chunking at docintake's chunk size and overlap, no embeddings, its Neo4j
destination, `--processes` worker processes (default: docintake's parser workers); timed from the start of
Pipeline.run() to its end. Prints both in documents per minute and docintake's as a multiple of the peer's.
The peer's nodes (Document and Chunk nodes with an `id`, UnstructuredElement) and the constraints it created
are removed afterwards, before and after its run.
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import peer_venv  # noqa: E402
from bench.system import failed_count, ingest, per_minute, query_graph, running_system  # noqa: E402
from docintake.ingestor.settings import IngestorSettings  # noqa: E402
from tests.support.documents import mixed_set  # noqa: E402

PIPELINE = Path(__file__).with_name("peer_pipeline.py")
# what the peer writes: its Document and Chunk nodes have an `id` and no tenant (docintake's have a tenant)
PEER_NODES = ("(n:UnstructuredElement OR n:Entity OR ((n:Document OR n:Chunk) "
              "AND n.id IS NOT NULL AND n.tenant IS NULL))")
PEER_CONSTRAINTS = ("unstructuredelement_id", "chunk_id", "document_id", "entity_id")
OFFLINE = {"SCARF_NO_ANALYTICS": "true", "DO_NOT_TRACK": "true", "HF_HUB_OFFLINE": "1",
           "UNSTRUCTURED_DISABLE_NOTICE": "1"}


async def through_docintake(settings: IngestorSettings, documents: list[tuple[str, bytes]],
                            arguments: argparse.Namespace) -> tuple[float, int]:
    async with running_system(settings, arguments.ingestors) as running:
        ingested = await ingest(running, documents, arguments.uploads)
    return ingested.seconds, failed_count(ingested.events)


async def constraints(settings: IngestorSettings) -> set[str]:
    return {record["name"] for record in await query_graph(settings, "SHOW CONSTRAINTS YIELD name")}


async def peer_graph(settings: IngestorSettings) -> tuple[int, int]:
    """The peer's Document and Chunk nodes in the graph."""
    [record] = await query_graph(settings, """
        OPTIONAL MATCH (d:Document) WHERE d.id IS NOT NULL AND d.tenant IS NULL
        WITH count(d) AS documents
        OPTIONAL MATCH (c:Chunk) WHERE c.id IS NOT NULL AND c.tenant IS NULL
        RETURN documents, count(c) AS chunks""")
    return record["documents"], record["chunks"]


async def remove_peer_graph(settings: IngestorSettings, created_constraints: Iterable[str] = ()) -> None:
    while (await query_graph(settings, f"MATCH (n) WHERE {PEER_NODES} WITH n LIMIT 10000 DETACH DELETE n "
                                       "RETURN count(*) AS removed"))[0]["removed"]:
        pass
    for name in created_constraints:
        await query_graph(settings, f"DROP CONSTRAINT {name} IF EXISTS")


def through_the_peer(python: Path, settings: IngestorSettings, documents: list[tuple[str, bytes]],
                     processes: int) -> float:
    """Seconds of the peer's pipeline over the documents; SystemExit with its log's end if it failed."""
    scratch = Path(tempfile.mkdtemp(prefix="docintake-peer-"))
    (scratch / "input").mkdir()
    for name, content in documents:
        (scratch / "input" / name).write_bytes(content)
    (scratch / "settings.json").write_text(json.dumps({
        "input_dir": str(scratch / "input"), "work_dir": str(scratch / "work"), "processes": processes,
        "chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap,
        "neo4j_uri": settings.neo4j_uri, "neo4j_user": settings.neo4j_user,
        "neo4j_password": settings.neo4j_password, "neo4j_database": settings.neo4j_database,
    }))
    log = scratch / "peer.log"
    with log.open("wb") as output:
        finished = subprocess.run(
            [str(python), str(PIPELINE), str(scratch / "settings.json"), str(scratch / "result.json")],
            cwd=scratch, env={**os.environ, **OFFLINE}, stdout=output, stderr=subprocess.STDOUT,
        )
    if finished.returncode or not (scratch / "result.json").exists():
        tail = log.read_text(errors="replace").splitlines()[-30:]
        raise SystemExit(f"the peer stopped (exit {finished.returncode}); the end of {log}:\n" + "\n".join(tail))
    for folder in ("input", "work"):  # the log stays
        shutil.rmtree(scratch / folder, ignore_errors=True)
    return json.loads((scratch / "result.json").read_text())["seconds"]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--ingestors", type=int, default=1, help="docintake's ingestor processes")
    parser.add_argument("--uploads", type=int, default=2, help="docintake's batches uploading at once")
    parser.add_argument("--processes", type=int, default=0, help="the peer's processes (0: docintake's workers)")
    parser.add_argument("--venv", type=Path, default=peer_venv.default_path(), help="the peer's environment")
    arguments = parser.parse_args()
    settings = IngestorSettings()
    processes = arguments.processes or settings.workers
    python = peer_venv.ensure(arguments.venv)
    documents = list(mixed_set(arguments.documents, time.time_ns() % 10**9))
    print(f"{len(documents)} generated documents (PDF, DOCX, TXT, Markdown, CSV, HTML; 1-10 pages); docintake: "
          f"{arguments.ingestors} ingestor process(es) x {settings.workers} parser workers; the peer: "
          f"unstructured-ingest, {processes} processes", flush=True)

    elapsed, failed = await through_docintake(settings, documents, arguments)
    rate = per_minute(len(documents), elapsed)
    print(f"docintake end to end: {len(documents)} documents in {elapsed:.1f} s = {rate:.0f} documents/min "
          f"({failed} failed)", flush=True)

    before = await constraints(settings)
    await remove_peer_graph(settings)
    try:
        peer_seconds = through_the_peer(python, settings, documents, processes)
        written, chunks = await peer_graph(settings)
    finally:
        await remove_peer_graph(settings, (await constraints(settings) - before) & set(PEER_CONSTRAINTS))
    peer_rate = per_minute(len(documents), peer_seconds)
    print(f"unstructured-ingest (fast, Neo4j destination): {len(documents)} documents in {peer_seconds:.1f} s = "
          f"{peer_rate:.0f} documents/min ({written} Document and {chunks} Chunk nodes written)")
    print(f"docintake is {rate / peer_rate:.2f} x the peer")


if __name__ == "__main__":
    asyncio.run(main())
