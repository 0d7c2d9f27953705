"""Deletion through the public API of the running system: a collection, one source of two that share
content, a list of sources, a batch's documents; each answered at once and finished in the background."""

from uuid import uuid4

from docintake.platform.storage import ObjectStore
from tests.support.batches import COLLECTIONS, DELETIONS, INGEST, csv_mapping, finished_deletion, wait_until_finished
from tests.support.broker import listen
from tests.support.graph import graph_count


async def upload_to(api, collection: str, documents: list[tuple[str, bytes]], author: str, tag: str) -> dict:
    mapping = csv_mapping({path.rpartition("/")[2]: {"author": author, "tags": tag} for path, _ in documents})
    files = [("files", (path, content, "text/markdown")) for path, content in documents]
    response = await api.post(f"{INGEST}/batch", params={"collection": collection}, files=[*files, mapping])
    assert response.status_code == 202, response.text
    final, _ = await wait_until_finished(api, response.json()["batch_id"])
    assert final["status"] == "completed", final
    return final


def text(word: str) -> bytes:
    return f"# {word}\n\nThis page is about {word}. ".encode() * 20


async def test_a_deleted_collection_leaves_no_node_and_no_object_of_it(api, settings):
    run = uuid4().hex[:10]
    collection, author, tag = f"kb-{run}", f"Ada {run}", f"tag-{run}"
    documents = [(f"guide/{word}-{run}.md", text(f"{word}{run}")) for word in ("alpha", "beta", "gamma")]
    batch = await upload_to(api, collection, documents, author, tag)
    shas = [d["sha256"] for d in (await api.get(f"{INGEST}/batch/{batch['batch_id']}/status")).json()["documents"]
            if "sha256" in d]
    store = ObjectStore(settings)
    assert len(await store.keys(f"batches/{batch['batch_id']}/")) == 3

    async with listen(settings.rabbitmq_url, "document.removed") as listener:
        answer = await api.delete(f"{COLLECTIONS}/{collection}")
        assert {s["source_path"] for s in answer.json()["sources"]} == {path for path, _ in documents}
        deletion = await finished_deletion(api, answer)
        removed = await listener.of_batch_once(answer.json()["deletion_id"], count=3)
        await listener.quiet_for(1.0)

    assert (deletion["kind"], deletion["status"], deletion["removed_count"]) == ("deletion", "completed", 3), deletion
    assert {d["outcome"] for d in deletion["documents"]} == {"removed"}
    of_deletion = listener.of_batch(answer.json()["deletion_id"])
    assert len(of_deletion) == 3 and {e.data.reason for e in of_deletion} == {"deleted"}
    assert {e.data.source_path for e in removed} == {path for path, _ in documents}
    assert all(e.data.document_deleted for e in removed)
    gone = [e.data.sha256 for e in removed] + shas
    assert await graph_count(settings, "MATCH (s:Source {collection: $c}) RETURN count(s) AS n", c=collection) == 0
    assert await graph_count(settings, "MATCH (d:Document) WHERE d.sha256 IN $s RETURN count(d) AS n", s=gone) == 0
    assert await graph_count(settings, "MATCH (c:Chunk) WHERE c.document_sha256 IN $s RETURN count(c) AS n",
                             s=gone) == 0
    assert await graph_count(settings, "MATCH (n) WHERE (n:Author AND n.name = $a) OR (n:Tag AND n.name = $t) "
                                       "RETURN count(n) AS n", a=author, t=tag) == 0
    assert await store.keys(f"batches/{batch['batch_id']}/") == []

    again = await api.delete(f"{COLLECTIONS}/{collection}")
    assert again.status_code == 404 and again.json()["error"]["code"] == "COLLECTION_NOT_FOUND"


async def test_a_source_deleted_leaves_the_content_another_source_has_then_the_last_one_takes_it(api, settings):
    run = uuid4().hex[:10]
    collection, shared = f"kb-{run}", text(f"shared{run}")
    await upload_to(api, collection, [("a.md", shared), ("b.md", shared)], f"Ada {run}", f"tag-{run}")

    async with listen(settings.rabbitmq_url, "document.removed") as listener:
        first = await finished_deletion(api, await api.delete(f"{COLLECTIONS}/{collection}/sources/a.md"))
        [removed] = await listener.of_batch_once(first["batch_id"])
    assert first["removed_count"] == 1 and removed.data.source_path == "a.md"
    assert removed.data.document_deleted is False
    assert await graph_count(settings, "MATCH (:Source {collection: $c, path: 'b.md'})-[:CURRENT]->(d:Document)"
                                       "<-[:PART_OF]-(:Chunk) RETURN count(DISTINCT d) AS n", c=collection) == 1

    again = await api.delete(f"{COLLECTIONS}/{collection}/sources/a.md")
    assert again.status_code == 404 and again.json()["error"]["code"] == "SOURCE_NOT_FOUND"
    listed = await api.post(f"{COLLECTIONS}/{collection}/sources/delete", json={"source_paths": ["b.md", "a.md"]})
    assert listed.status_code == 404 and "'a.md'" in listed.json()["error"]["message"]

    last = await finished_deletion(api, await api.post(f"{COLLECTIONS}/{collection}/sources/delete",
                                                       json={"source_paths": ["b.md"]}))
    assert last["removed_count"] == 1
    assert await graph_count(settings, "MATCH (d:Document) WHERE d.sha256 = $s RETURN count(d) AS n",
                             s=removed.data.sha256) == 0


async def test_a_batchs_documents_are_deleted_and_unknown_things_are_404(api, settings):
    run = uuid4().hex[:10]
    collection = f"kb-{run}"
    batch = await upload_to(api, collection, [("one.md", text(f"one{run}")), ("two.md", text(f"two{run}"))],
                            f"Ada {run}", f"tag-{run}")
    answer = await api.delete(f"{INGEST}/batch/{batch['batch_id']}/documents")
    assert answer.json()["total_sources"] == 2
    deletion = await finished_deletion(api, answer)
    assert deletion["removed_count"] == 2
    assert await graph_count(settings, "MATCH (s:Source {collection: $c}) RETURN count(s) AS n", c=collection) == 0

    for path, code in [(f"{INGEST}/batch/{batch['batch_id']}/documents", "BATCH_NOT_FOUND"),
                       (f"{INGEST}/batch/{uuid4()}/documents", "BATCH_NOT_FOUND"),
                       (f"{COLLECTIONS}/nothing-{run}", "COLLECTION_NOT_FOUND")]:
        response = await api.delete(path)
        assert (response.status_code, response.json()["error"]["code"]) == (404, code), path
    unknown = await api.get(f"{DELETIONS}/{uuid4()}")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "DELETION_NOT_FOUND")
    not_a_deletion = await api.get(f"{DELETIONS}/{batch['batch_id']}")
    assert not_a_deletion.status_code == 404
    no_key = await api.delete(f"{COLLECTIONS}/{collection}", headers={"X-API-Key": "wrong"})
    assert no_key.status_code == 401
