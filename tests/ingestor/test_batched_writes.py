"""Documents written at the same time share transactions, on the real Neo4j: each still gets its own
outcome, and one the graph refuses fails alone."""

import asyncio
from uuid import uuid4

import pytest

from docintake.contracts.metadata import DocumentMetadata
from docintake.ingestor.adapters.knowledge_graph import KnowledgeGraph
from docintake.ingestor.domain.document import Chunk, ParsedDocument, Section
from docintake.platform.errors import GraphRefused
from tests.ingestor.test_sources import _ref, count, source_graph

PARSED = ParsedDocument("markdown", (Section("text"),), 1)


class CountedGraph(KnowledgeGraph):
    """The knowledge graph, recording how many documents each write transaction held."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.transactions: list[int] = []
        self.reads: list[int] = []

    async def write_documents(self, documents):
        self.transactions.append(len(documents))
        return await super().write_documents(documents)

    async def current_versions(self, sources):
        self.reads.append(len(sources))
        return await super().current_versions(sources)


@pytest.fixture(autouse=True)
async def schema(graph):
    await KnowledgeGraph(graph).ensure_schema()


def write(graph: KnowledgeGraph, ref, text: str, page=None):
    return graph.write_document(ref, str(uuid4()), DocumentMetadata(author=f"Writer {ref.collection}"), PARSED,
                                [Chunk(0, text, page), Chunk(1, f"{text} again", page)])


async def test_documents_written_at_once_share_transactions_of_at_most_the_batch_size_each_with_its_outcome(graph):
    knowledge_graph = CountedGraph(graph, write_batch_size=10)
    collection = f"together-{uuid4().hex[:8]}"
    refs = [_ref(collection, f"doc-{n}.md", n) for n in range(40)]

    writes = await asyncio.gather(*(write(knowledge_graph, ref, f"text of {ref.sha256}") for ref in refs))

    assert [w.change for w in writes] == ["added"] * 40
    assert sum(knowledge_graph.transactions) == 40
    assert len(knowledge_graph.transactions) < 40 and max(knowledge_graph.transactions) <= 10
    for ref in refs:
        stored = await source_graph(graph, collection, ref.source_path)
        assert stored["current"] == [ref.sha256]
        assert sorted(stored["texts"]) == [f"text of {ref.sha256}", f"text of {ref.sha256} again"]
    assert await count(graph, "MATCH (c:Chunk)-[:NEXT]->(:Chunk) WHERE c.document_sha256 IN $shas RETURN count(c) AS n",
                       shas=[ref.sha256 for ref in refs]) == 40
    assert await count(graph, "MATCH (d:Document)-[:AUTHORED_BY]->(a:Author {name: $name}) RETURN count(d) AS n",
                       name=f"Writer {collection}") == 40


async def test_a_document_the_graph_refuses_fails_alone_and_the_others_of_its_transaction_are_written(graph):
    knowledge_graph = CountedGraph(graph, write_batch_size=10)
    collection = f"refused-{uuid4().hex[:8]}"
    refs = [_ref(collection, f"doc-{n}.md", n) for n in range(6)]
    # A page no property can hold: Neo4j refuses this document's chunks for good.
    pages = [None, None, None, {"not": "a page"}, None, None]

    writes = await asyncio.gather(*(write(knowledge_graph, ref, "some text", page)
                                    for ref, page in zip(refs, pages, strict=True)), return_exceptions=True)

    assert isinstance(writes[3], GraphRefused)
    assert [w.change for n, w in enumerate(writes) if n != 3] == ["added"] * 5
    assert any(size > 1 for size in knowledge_graph.transactions)  # they were tried together first
    for n, ref in enumerate(refs):
        stored = await source_graph(graph, collection, ref.source_path)
        assert stored["current"] == ([] if n == 3 else [ref.sha256])


@pytest.mark.parametrize("batch_size", [1, 50])
async def test_two_versions_of_one_source_in_one_transaction_leave_the_later_current(graph, batch_size):
    knowledge_graph = CountedGraph(graph, write_batch_size=batch_size)
    collection, path = f"versions-{uuid4().hex[:8]}", "page.md"
    blocker = asyncio.create_task(write(knowledge_graph, _ref(f"{collection}-other", "x.md", 0), "blocker"))
    await asyncio.sleep(0)
    first, second = _ref(collection, path, 1), _ref(collection, path, 2)

    writes = await asyncio.gather(write(knowledge_graph, first, "first"), write(knowledge_graph, second, "second"))
    await blocker

    assert [w.change for w in writes] == ["added", "replaced"]
    assert writes[1].replaced_sha256 == first.sha256 and writes[1].replaced_document_deleted
    stored = await source_graph(graph, collection, path)
    assert stored["current"] == [second.sha256] and sorted(stored["texts"]) == ["second", "second again"]


async def test_current_versions_asked_at_once_are_read_together_each_its_own_and_none_for_an_unknown_source(graph):
    knowledge_graph = CountedGraph(graph, write_batch_size=10)
    collection = f"read-{uuid4().hex[:8]}"
    refs = [_ref(collection, f"doc-{n}.md", n) for n in range(12)]
    await asyncio.gather(*(write(knowledge_graph, ref, f"text {n}") for n, ref in enumerate(refs[:8])))

    versions = await asyncio.gather(*(knowledge_graph.current_version(ref) for ref in refs))

    assert [v.sha256 if v else None for v in versions] == [ref.sha256 for ref in refs[:8]] + [None] * 4
    assert [v.figures.chunks for v in versions[:8]] == [2] * 8
    assert sum(knowledge_graph.reads) == 12 and len(knowledge_graph.reads) < 12
