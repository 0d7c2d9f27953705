"""Deleting sources: each removed after its raw objects, announced once under ids that follow from the
deletion and the source, redone harmlessly, stopped by a cancellation, retried when a server is away."""

import asyncio
from uuid import uuid4, uuid5

import pytest

from docintake.contracts.events import (
    DeletionRequested,
    DeletionRequestedData,
    DocumentFailed,
    DocumentRemoved,
    SourceToRemove,
    removal_id,
)
from docintake.ingestor.domain.failures import GRAPH_UNAVAILABLE, STORAGE_UNAVAILABLE, TransientFailure
from docintake.ingestor.domain.removals import SourceRemoval
from docintake.ingestor.service_layer.deletion import delete_sources
from docintake.platform.errors import GraphRefused, GraphUnavailable, StorageUnavailable


def deletion(*paths: str) -> DeletionRequested:
    deletion_id = uuid4()
    sources = [SourceToRemove(removal_id=removal_id(deletion_id, "kb", path), collection="kb", source_path=path,
                              sha256=f"{i:064x}") for i, path in enumerate(paths)]
    return DeletionRequested(batch_id=deletion_id,
                             data=DeletionRequestedData(scope="sources", collection="kb", sources=sources))


class Graph:
    """Sources with their objects; the content of each is its own, but 'shared' ones share one."""

    def __init__(self, paths, failure: Exception | None = None):
        self.sources = {path: [f"batches/b/{path}"] for path in paths}
        self.failure = failure
        self.cancelled: set[str] = set()
        self.log: list[str] = []

    async def source_objects(self, collection, path, tenant="default"):
        return list(self.sources.get(path, []))

    async def delete_source(self, collection, path, sha256, tenant="default"):
        if self.failure:
            raise self.failure
        self.log.append(f"graph {path}")
        found = self.sources.pop(path, None) is not None
        return SourceRemoval(found, sha256, True)

    async def is_cancelled(self, batch_id):
        return batch_id in self.cancelled


class Storage:
    def __init__(self, graph: Graph, failure: Exception | None = None):
        self.graph, self.failure, self.removed = graph, failure, []

    async def remove(self, keys):
        if self.failure:
            raise self.failure
        self.graph.log.extend(f"object {key}" for key in keys)
        self.removed.extend(keys)


def run(event, graph, storage):
    announced = []

    async def announce(e):
        announced.append(e)

    asyncio.run(delete_sources(event, graph, storage, announce))
    return announced


def test_each_source_is_removed_after_its_objects_and_announced_once_as_deleted():
    event = deletion("a.md", "b/c.md")
    graph = Graph(["a.md", "b/c.md", "other.md"])
    storage = Storage(graph)
    announced = run(event, graph, storage)
    assert sorted(storage.removed) == ["batches/b/a.md", "batches/b/b/c.md"]
    assert list(graph.sources) == ["other.md"]
    assert graph.log.index("object batches/b/a.md") < graph.log.index("graph a.md")
    assert all(isinstance(e, DocumentRemoved) and e.data.reason == "deleted" for e in announced)
    assert {e.document_id for e in announced} == {s.removal_id for s in event.data.sources}
    assert {e.event_id for e in announced} == {uuid5(s.removal_id, "removed") for s in event.data.sources}
    assert all(e.batch_id == event.batch_id for e in announced)


def test_a_redelivered_deletion_removes_nothing_twice_and_announces_under_the_same_ids():
    event = deletion("a.md", "b.md")
    graph = Graph(["a.md", "b.md"])
    first = run(event, graph, Storage(graph))
    storage = Storage(graph)
    second = run(event, graph, storage)
    assert storage.removed == []
    assert sorted(e.event_id for e in second) == sorted(e.event_id for e in first)
    assert {e.data.sha256 for e in second} == {s.sha256 for s in event.data.sources}


def test_a_cancelled_deletion_removes_nothing_more():
    event = deletion("a.md")
    graph = Graph(["a.md"])
    graph.cancelled.add(str(event.batch_id))
    assert run(event, graph, Storage(graph)) == []
    assert list(graph.sources) == ["a.md"]


@pytest.mark.parametrize(("graph_failure", "storage_failure", "code"), [
    (GraphUnavailable("down"), None, GRAPH_UNAVAILABLE),
    (None, StorageUnavailable("down"), STORAGE_UNAVAILABLE),
])
def test_a_server_out_of_reach_is_a_transient_failure(graph_failure, storage_failure, code):
    graph = Graph(["a.md", "b.md"], graph_failure)
    with pytest.raises(TransientFailure) as raised:
        run(deletion("a.md", "b.md"), graph, Storage(graph, storage_failure))
    assert raised.value.code == code


def test_a_removal_the_graph_refuses_fails_that_source_only():
    graph = Graph(["a.md"], GraphRefused("Neo.ClientError.X", "no"))
    [outcome] = run(deletion("a.md"), graph, Storage(graph))
    assert isinstance(outcome, DocumentFailed) and outcome.data.error_code == "GRAPH_WRITE_FAILED"
