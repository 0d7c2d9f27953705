"""Documents up to the file limit get in: a 200 MB CSV and a plain text of the per-file limit (512 MiB), generated
while they are sent into MinIO, ingested by a real ingestor process into the real Neo4j, each written staged in
bounded transactions. The limit-sized text is mostly blank lines, so that the test takes minutes, not a quarter of
an hour: bench/large_documents.py ingests dense text of both sizes and prints the times and peak RSS."""

from uuid import uuid4

import pytest

from deploy.native.services import ServiceProcess
from docintake.ingestor.adapters.knowledge_graph import KnowledgeGraph
from docintake.ingestor.adapters.staged_writes import StagedWriter
from docintake.platform.messaging import publish
from tests.support.broker import listen
from tests.support.http import free_port
from tests.support.ingest import outcomes_for
from tests.support.large import MB, csv_blocks, sparse_text_blocks, staged

MiB = 1024 * 1024
FILE_LIMIT = 512 * MiB  # the gateway's DOCINTAKE_MAX_FILE_BYTES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def large_ingestor(settings, tmp_path_factory):
    port = free_port()
    process = ServiceProcess("ingestor", "docintake-ingestor", tmp_path_factory.mktemp("large-ingestor"),
                             env={"DOCINTAKE_INGESTOR_METRICS_PORT": str(port), "DOCINTAKE_WORKERS": "1"},
                             ready_url=f"http://127.0.0.1:{port}/readyz")
    process.start()
    yield process
    process.stop()


async def stored(graph, sha256: str) -> dict:
    records, _, _ = await graph.execute_query(
        """
        MATCH (d:Document {sha256: $sha})
        RETURN d.staged AS staged, COUNT { (d)<-[:PART_OF]-(:Chunk) } AS chunks,
               COUNT { (d)<-[:PART_OF]-(:Chunk)-[:NEXT]->(:Chunk) } AS links,
               COUNT { (:StagedDocument {sha256: $sha}) } AS staged_copies
        """, sha=sha256)
    return records[0].data() if records else {}


@pytest.mark.parametrize(("filename", "blocks", "size"), [
    ("customers.csv", csv_blocks, 200 * MB),
    ("limit.txt", sparse_text_blocks, FILE_LIMIT),
])
async def test_a_document_up_to_the_file_limit_is_ingested_whole_through_bounded_transactions(
    large_ingestor, broker, store, graph, settings, filename, blocks, size
):
    collection = f"large-{uuid4().hex[:8]}"
    event = await staged(store, blocks(size, collection), filename, collection)
    assert event.data.document.size >= size
    async with listen(settings.rabbitmq_url, "document.*") as listener:
        await publish(broker, event)
        [outcome] = await listener.collect(outcomes_for(event), timeout=1800)
    assert outcome["event_type"] == "docintake.document.ingested", outcome
    chunks = outcome["data"]["chunks"]
    assert chunks > 1000
    assert await stored(graph, event.data.document.sha256) == {
        "staged": True, "chunks": chunks, "links": chunks - 1, "staged_copies": 0}
    # and it leaves as it came, in bounded transactions
    knowledge_graph = KnowledgeGraph(graph, staged=StagedWriter(graph))
    removal = await knowledge_graph.delete_source(collection, filename, event.data.document.sha256)
    assert removal.document_deleted and await stored(graph, event.data.document.sha256) == {}
    await store.remove([event.data.document.key])
