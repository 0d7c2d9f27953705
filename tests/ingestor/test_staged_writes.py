"""Large documents written staged against the real Neo4j: in bounded transactions, never visible half-written,
made current in one switch; a crashed try's leftovers cleared on the retry; a large version replaced or deleted
removed in bounded transactions. The large-document size is set low here so that small documents take that way."""

from uuid import uuid4

import pytest

from docintake.contracts.metadata import DocumentMetadata
from docintake.ingestor.adapters.knowledge_graph import KnowledgeGraph
from docintake.ingestor.adapters.staged_writes import StagedWriter
from docintake.ingestor.domain.document import Chunk, ParsedDocument, Section
from tests.support.events import document_ref

CHUNKS = 60


@pytest.fixture
async def knowledge_graph(graph):
    # 2 KiB a transaction: a document of 60 chunks of about 100 bytes is staged in several
    staged = StagedWriter(graph, transaction_bytes=2048, removal_chunks=7)
    knowledge_graph = KnowledgeGraph(graph, staged=staged, large_document_bytes=1024)
    await knowledge_graph.ensure_schema()
    return knowledge_graph


def version_of(collection: str, label: str):
    ref = document_ref(filename="large.txt").model_copy(update={
        "collection": collection, "source_path": "large.txt", "sha256": uuid4().hex + uuid4().hex})
    chunks = [Chunk(i, f"{label} chunk {i}: " + "knowledge graphs link documents " * 3, None) for i in range(CHUNKS)]
    return ref, chunks


PARSED = ParsedDocument("text", (Section("large"),), 1)


async def visible(graph, sha256: str) -> dict:
    """What a reader sees of the content: its document, its chunks through PART_OF, chunks in order, staged copies."""
    records, _, _ = await graph.execute_query(
        """
        OPTIONAL MATCH (d:Document {sha256: $sha})
        WITH count(d) AS documents
        OPTIONAL MATCH (c:Chunk {document_sha256: $sha})
        WITH documents, count(c) AS chunks
        OPTIONAL MATCH (:Document {sha256: $sha})<-[:PART_OF]-(c:Chunk)
        WITH documents, chunks, count(c) AS document_chunks
        OPTIONAL MATCH (:Document {sha256: $sha})<-[:PART_OF]-(:Chunk)-[n:NEXT]->(:Chunk)
        WITH documents, chunks, document_chunks, count(n) AS links
        OPTIONAL MATCH (s:StagedDocument {sha256: $sha})
        WITH documents, chunks, document_chunks, links, count(s) AS staged
        OPTIONAL MATCH (r:RetiredDocument {sha256: $sha})
        RETURN documents, chunks, document_chunks, links, staged, count(r) AS retired
        """, sha=sha256)
    return records[0].data()


async def current_of(graph, collection: str) -> list[str]:
    records, _, _ = await graph.execute_query(
        "MATCH (:Source {collection: $collection, path: 'large.txt'})-[:CURRENT]->(d:Document) RETURN d.sha256 AS sha",
        collection=collection)
    return [record["sha"] for record in records]


class Crash(Exception):
    pass


def crashing_after(chunks: list[Chunk], count: int):
    """The chunks of a try that crashes once `count` of them were handed to the writer."""
    for chunk in chunks:
        if chunk.index == count:
            raise Crash
        yield chunk


async def test_a_crashed_try_leaves_nothing_visible_and_its_retry_writes_the_document_whole(knowledge_graph, graph):
    collection = f"staged-{uuid4().hex[:8]}"
    first, first_chunks = version_of(collection, "first")
    await knowledge_graph.write_document(first, str(uuid4()), DocumentMetadata(), PARSED, first_chunks)
    ref, chunks = version_of(collection, "second")

    with pytest.raises(Crash):  # the ingestor dies while it stages
        await knowledge_graph.staged._stage("default", ref.sha256, str(ref.document_id), crashing_after(chunks, 40))
    seen = await visible(graph, ref.sha256)
    assert (seen["documents"], seen["document_chunks"], seen["staged"]) == (0, 0, 1)
    assert 0 < seen["chunks"] < 40  # the crashed try's whole transactions, staged, under no :Document
    assert await current_of(graph, collection) == [first.sha256]

    # the redelivered upload (the same document id) clears them and writes the document whole
    written = await knowledge_graph.write_document(ref, str(uuid4()), DocumentMetadata(author="Ada"), PARSED, chunks)

    assert written.change == "replaced" and written.replaced_document_deleted
    assert await visible(graph, ref.sha256) == {"documents": 1, "chunks": CHUNKS, "document_chunks": CHUNKS,
                                                "links": CHUNKS - 1, "staged": 0, "retired": 0}
    assert await current_of(graph, collection) == [ref.sha256]
    assert (await visible(graph, first.sha256))["chunks"] == 0


async def test_a_large_version_replaced_or_deleted_is_removed_whole(knowledge_graph, graph):
    collection = f"replaced-{uuid4().hex[:8]}"
    first, first_chunks = version_of(collection, "first")
    second, second_chunks = version_of(collection, "second")
    await knowledge_graph.write_document(first, str(uuid4()), DocumentMetadata(author="Ada"), PARSED, first_chunks)
    assert (await visible(graph, first.sha256))["document_chunks"] == CHUNKS

    replaced = await knowledge_graph.write_document(second, str(uuid4()), DocumentMetadata(), PARSED, second_chunks)
    assert (replaced.change, replaced.replaced_sha256, replaced.replaced_document_deleted) == (
        "replaced", first.sha256, True)
    assert await visible(graph, first.sha256) == {"documents": 0, "chunks": 0, "document_chunks": 0, "links": 0,
                                                  "staged": 0, "retired": 0}

    small = second.model_copy(update={"sha256": uuid4().hex + uuid4().hex, "document_id": uuid4()})
    await knowledge_graph.write_document(small, str(uuid4()), DocumentMetadata(), PARSED, [Chunk(0, "small", None)])
    assert (await visible(graph, second.sha256))["chunks"] == 0  # retired by the ordinary write, then removed

    removal = await knowledge_graph.delete_source(collection, "large.txt", small.sha256)
    assert removal.document_deleted and await current_of(graph, collection) == []


async def test_content_another_source_has_whole_is_linked_not_staged_again(knowledge_graph, graph):
    one, chunks = version_of(f"one-{uuid4().hex[:8]}", "shared")
    other = one.model_copy(update={"collection": f"other-{uuid4().hex[:8]}", "document_id": uuid4()})
    await knowledge_graph.write_document(one, str(uuid4()), DocumentMetadata(), PARSED, chunks)
    written = await knowledge_graph.write_document(other, str(uuid4()), DocumentMetadata(), PARSED, chunks)
    assert written.change == "added"
    assert await visible(graph, one.sha256) == {"documents": 1, "chunks": CHUNKS, "document_chunks": CHUNKS,
                                                "links": CHUNKS - 1, "staged": 0, "retired": 0}
    await knowledge_graph.delete_source(one.collection, "large.txt", one.sha256)
    assert (await visible(graph, one.sha256))["document_chunks"] == CHUNKS  # the other source has it still
    await knowledge_graph.delete_source(other.collection, "large.txt", one.sha256)
    assert (await visible(graph, one.sha256))["chunks"] == 0
