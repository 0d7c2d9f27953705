"""A deletion's rules: what it names, what it refuses, and the command it announces."""

import asyncio
from uuid import uuid4

import pytest

from docintake.contracts.api import SourceEntry
from docintake.contracts.events import DeletionRequested, removal_id
from docintake.gateway.domain.deletion import (
    Selection,
    batch_documents,
    deletion_command,
    named_sources,
    whole_collection,
)
from docintake.gateway.domain.refusals import (
    BatchHasNoSources,
    CollectionNotFound,
    GraphUnavailable,
    InvalidCollection,
    InvalidDeletion,
    SourceNotFound,
)
from docintake.gateway.service_layer.request_deletion import request_deletion
from docintake.platform import errors


def entry(path: str, collection: str = "handbook") -> SourceEntry:
    return SourceEntry(collection=collection, source_path=path, sha256="ab" * 32)


def test_named_sources_are_normalised_like_an_upload_and_each_named_once():
    selection = named_sources("handbook", ["guide/setup.md", "guide\\setup.md", "/guide//setup.md", "a.md"])
    assert selection.paths == ("guide/setup.md", "a.md")
    assert selection.scope == "sources" and selection.collection == "handbook"


@pytest.mark.parametrize("paths", [[], ["..", "/"]])
def test_a_deletion_naming_no_source_is_refused(paths):
    with pytest.raises(InvalidDeletion):
        named_sources("handbook", paths)


def test_a_collection_name_is_checked_as_on_upload():
    with pytest.raises(InvalidCollection):
        whole_collection("no spaces please")


def test_named_sources_the_collection_lacks_refuse_the_whole_deletion():
    with pytest.raises(SourceNotFound, match="'b.md'"):
        deletion_command(uuid4(), named_sources("handbook", ["a.md", "b.md"]), [entry("a.md")])


@pytest.mark.parametrize(("selection", "refusal"), [
    (whole_collection("handbook"), CollectionNotFound),
    (batch_documents(uuid4()), BatchHasNoSources),
    (named_sources("handbook", ["a.md"]), SourceNotFound),
])
def test_a_selection_the_graph_has_nothing_of_is_a_404(selection: Selection, refusal):
    with pytest.raises(refusal):
        deletion_command(uuid4(), selection, [])


def test_the_command_names_each_source_under_an_id_that_follows_from_the_deletion_and_the_source():
    deletion_id = uuid4()
    command = deletion_command(deletion_id, whole_collection("handbook"), [entry("a.md"), entry("b/c.md")])
    assert command.batch_id == deletion_id and command.event_id == DeletionRequested.id_for(deletion_id)
    assert [s.removal_id for s in command.data.sources] == [
        removal_id(deletion_id, "handbook", "a.md"), removal_id(deletion_id, "handbook", "b/c.md")]
    assert command.data.scope == "collection"


class Catalog:
    def __init__(self, found: list[SourceEntry] | Exception):
        self.found = found

    async def sources(self, selection: Selection) -> list[SourceEntry]:
        if isinstance(self.found, Exception):
            raise self.found
        return self.found


def test_a_deletion_is_answered_with_what_it_removes_once_its_command_is_confirmed():
    published = []

    async def publish(events):
        published.extend(events)

    answer = asyncio.run(request_deletion(whole_collection("handbook"), Catalog([entry("a.md")]), publish))
    assert [type(event) for event in published] == [DeletionRequested]
    assert answer.deletion_id == published[0].batch_id and answer.total_sources == 1
    assert [s.source_path for s in answer.sources] == ["a.md"]


@pytest.mark.parametrize("found", [[], errors.GraphUnavailable("down")])
def test_nothing_is_announced_for_a_deletion_refused(found):
    published = []

    async def publish(events):
        published.extend(events)

    with pytest.raises(CollectionNotFound if found == [] else GraphUnavailable):
        asyncio.run(request_deletion(whole_collection("handbook"), Catalog(found), publish))
    assert published == []
