"""Sources against real RabbitMQ, MinIO and Neo4j: a source uploaded again is updated, or unchanged and not parsed."""

import asyncio
from uuid import uuid4

from docintake.contracts.metadata import DocumentMetadata
from docintake.ingestor.adapters.knowledge_graph import KnowledgeGraph
from docintake.ingestor.domain.document import Chunk, ParsedDocument, Section
from tests.ingestor.test_ingestor import unique_text
from tests.support.broker import listen
from tests.support.events import document_ref
from tests.support.ingest import outcomes_for, queue

REMOVED = "docintake.document.removed"


def version(title: str, word: str) -> bytes:
    """A document whose every version has a word of its own, to search the graph's text for."""
    return unique_text(title) + f"\n\nThis version says {word}.\n".encode()


def removals_of(*events):
    wanted = {str(event.document_id) for event in events}
    return lambda received: [e for e in received if e["event_type"] == REMOVED and e["document_id"] in wanted]


async def ingest(settings, broker, store, *uploads: dict) -> list[dict]:
    """Queue each upload, one after the other's outcome; every event the uploads caused."""
    events = []
    async with listen(settings.rabbitmq_url, "document.*") as listener:
        for upload in uploads:
            queued = await queue(broker, store, **upload)
            events.append(queued)
            await listener.collect(lambda received, n=len(events): len(outcomes_for(*events)(received)) == n,
                                   timeout=60)
        await listener.quiet_for(1.0)
    return [e for e in listener.events if e["document_id"] in {str(q.document_id) for q in events}]


async def source_graph(graph, collection: str, path: str) -> dict:
    records, _, _ = await graph.execute_query(
        """
        MATCH (s:Source {collection: $collection, path: $path})
        OPTIONAL MATCH (s)-[:CURRENT]->(d:Document)
        OPTIONAL MATCH (c:Chunk)-[:PART_OF]->(d)
        RETURN count(DISTINCT s) AS sources, collect(DISTINCT d.sha256) AS current, collect(c.text) AS texts
        """, collection=collection, path=path)
    return records[0].data()


async def count(graph, query: str, **parameters) -> int:
    records, _, _ = await graph.execute_query(query, parameters)
    return records[0]["n"]


async def test_a_source_edited_and_uploaded_again_holds_only_the_new_text_and_keeps_the_shared_author(
    ingestor, broker, store, graph, settings
):
    collection, path, run = f"handbook-{uuid4().hex[:8]}", "handbook/setup.md", uuid4().hex[:8]
    author, old_tag, new_tag = f"Ada {run}", f"draft-{run}", f"final-{run}"
    old, new = version("Setup", f"oldword{run}"), version("Setup", f"newword{run}")
    source = {"filename": "setup.md", "collection": collection, "source_path": path}

    events = await ingest(settings, broker, store,
                          {"content": old, "metadata": {"author": author, "tags": old_tag}, **source},
                          {"content": new, "metadata": {"author": author, "tags": new_tag}, **source})

    first, second = [e for e in events if e["event_type"] == "docintake.document.ingested"]
    [removed] = [e for e in events if e["event_type"] == REMOVED]
    assert (first["data"]["change"], second["data"]["change"]) == ("added", "replaced")
    assert removed["document_id"] == second["document_id"]
    assert removed["data"] | {"sha256": None} == {"collection": collection, "source_path": path, "sha256": None,
                                                  "reason": "replaced", "document_deleted": True}
    assert removed["data"]["sha256"] == first["data"]["sha256"] != second["data"]["sha256"]
    stored = await source_graph(graph, collection, path)
    assert stored["sources"] == 1 and stored["current"] == [second["data"]["sha256"]]
    assert f"newword{run}" in "".join(stored["texts"])
    assert not any(f"oldword{run}" in text for text in stored["texts"])
    assert await count(graph, "MATCH (d:Document {sha256: $sha}) RETURN count(d) AS n",
                       sha=first["data"]["sha256"]) == 0
    assert await count(graph, "MATCH (c:Chunk {document_sha256: $sha}) RETURN count(c) AS n",
                       sha=first["data"]["sha256"]) == 0
    assert await count(graph, "MATCH (c:Chunk) WHERE NOT (c)-[:PART_OF]->(:Document) RETURN count(c) AS n") == 0
    assert await count(graph, "CALL db.index.fulltext.queryNodes('chunk_text', $word) YIELD node "
                              "RETURN count(node) AS n", word=f"oldword{run}") == 0
    assert await count(graph, "MATCH (:Document {sha256: $sha})-[:AUTHORED_BY]->(a:Author {name: $name}) "
                              "RETURN count(a) AS n", sha=second["data"]["sha256"], name=author) == 1
    assert await count(graph, "MATCH (t:Tag {name: $name}) RETURN count(t) AS n", name=old_tag) == 0
    assert await count(graph, "MATCH (t:Tag {name: $name}) RETURN count(t) AS n", name=new_tag) == 1


async def test_the_same_content_again_under_its_source_is_unchanged_and_not_parsed(
    ingestor, broker, store, graph, settings
):
    collection, content = f"notes-{uuid4().hex[:8]}", version("Unchanged", "sameword")
    source = {"content": content, "filename": "n.md", "collection": collection, "source_path": "n.md"}

    events = await ingest(settings, broker, store, source, source)

    first, again = [e for e in events if e["event_type"] == "docintake.document.ingested"]
    assert (first["data"]["change"], again["data"]["change"]) == ("added", "unchanged")
    assert again["data"]["timings"]["parse_ms"] == 0 and again["data"]["timings"]["fetch_ms"] == 0
    assert again["data"]["chunks"] == first["data"]["chunks"] > 1
    assert not any(e["event_type"] == REMOVED for e in events)
    not_parsed = [line for line in ingestor.log_file.read_text().splitlines()
                  if "source has this content already; not parsed" in line and again["document_id"] in line]
    assert len(not_parsed) == 1
    assert (await source_graph(graph, collection, "n.md"))["current"] == [first["data"]["sha256"]]


async def test_a_version_another_source_has_too_stays_when_one_source_moves_on(
    ingestor, broker, store, graph, settings
):
    collection, shared = f"shared-{uuid4().hex[:8]}", version("Shared", "both")
    events = await ingest(settings, broker, store,
                          {"content": shared, "filename": "a.md", "collection": collection, "source_path": "a.md"},
                          {"content": shared, "filename": "b.md", "collection": collection, "source_path": "b.md"},
                          {"content": version("Moved", "on"), "filename": "a.md", "collection": collection,
                           "source_path": "a.md"})

    [removed] = [e for e in events if e["event_type"] == REMOVED]
    assert removed["data"]["document_deleted"] is False
    sha = removed["data"]["sha256"]
    assert (await source_graph(graph, collection, "b.md"))["current"] == [sha]
    assert await count(graph, "MATCH (c:Chunk)-[:PART_OF]->(:Document {sha256: $sha}) RETURN count(c) AS n",
                       sha=sha) > 0


async def test_one_source_ingested_again_from_two_batches_at_once_ends_with_one_current_version(
    ingestor, broker, store, graph, settings
):
    collection, path = f"race-{uuid4().hex[:8]}", "race.md"
    async with listen(settings.rabbitmq_url, "document.*") as listener:
        queued = await asyncio.gather(*(
            queue(broker, store, version("Race", f"contender{n}"), "race.md", collection=collection, source_path=path)
            for n in range(2)))
        await listener.collect(lambda received: len(outcomes_for(*queued)(received)) == 2, timeout=60)
        await listener.quiet_for(1.0)
    outcomes = outcomes_for(*queued)(listener.events)
    assert sorted(e["data"]["change"] for e in outcomes) == ["added", "replaced"]
    stored = await source_graph(graph, collection, path)
    assert stored["sources"] == 1 and len(stored["current"]) == 1
    [loser] = {e["data"]["sha256"] for e in outcomes} - set(stored["current"])
    assert await count(graph, "MATCH (d:Document {sha256: $sha}) RETURN count(d) AS n", sha=loser) == 0
    [removed] = removals_of(*queued)(listener.events)
    assert removed["data"]["sha256"] == loser


async def test_many_writers_of_one_source_at_once_leave_one_current_version_and_no_stale_chunk(graph, ingestor):
    knowledge_graph = KnowledgeGraph(graph)
    collection, path = f"writers-{uuid4().hex[:8]}", "contested.md"
    refs = [_ref(collection, path, n) for n in range(8)]
    parsed = ParsedDocument("markdown", (Section("text"),), 1)

    writes = await asyncio.gather(*(
        knowledge_graph.write_document(ref, str(uuid4()), DocumentMetadata(), parsed,
                                       [Chunk(0, f"contender {ref.sha256}", None)])
        for ref in refs))

    assert sorted(write.change for write in writes) == ["added"] + ["replaced"] * 7
    stored = await source_graph(graph, collection, path)
    assert stored["sources"] == 1 and len(stored["current"]) == 1
    assert await count(graph, "MATCH (d:Document) WHERE d.sha256 IN $shas RETURN count(d) AS n",
                       shas=[ref.sha256 for ref in refs]) == 1
    assert await count(graph, "MATCH (c:Chunk) WHERE c.document_sha256 IN $shas RETURN count(c) AS n",
                       shas=[ref.sha256 for ref in refs]) == 1
    assert sorted(w.replaced_sha256 for w in writes if w.replaced_sha256) == sorted(
        ref.sha256 for ref in refs if ref.sha256 not in stored["current"])


async def test_a_write_of_the_content_current_already_is_unchanged_and_keeps_what_the_write_that_made_it_did(
    graph, ingestor
):
    knowledge_graph = KnowledgeGraph(graph)
    collection, path = f"kept-{uuid4().hex[:8]}", "kept.md"
    first, second = _ref(collection, path, 1), _ref(collection, path, 2)
    same_as_second = second.model_copy(update={"document_id": uuid4()})  # parsed beside it, written after it
    parsed = ParsedDocument("markdown", (Section("text"),), 1)

    for ref in (first, second):
        await knowledge_graph.write_document(ref, str(uuid4()), DocumentMetadata(), parsed, [Chunk(0, "t", None)])
    late = await knowledge_graph.write_document(same_as_second, str(uuid4()), DocumentMetadata(), parsed,
                                                [Chunk(0, "t", None)])

    assert late.change == "unchanged"
    current = await knowledge_graph.current_version(second)
    assert current is not None and current.document_id == str(second.document_id)
    assert (current.write.change, current.write.replaced_sha256, current.write.replaced_document_deleted) == (
        "replaced", first.sha256, True)


def _ref(collection: str, path: str, n: int):
    ref = document_ref(filename=path)
    return ref.model_copy(update={"collection": collection, "source_path": path, "sha256": f"{uuid4().hex}{n:032x}"})
