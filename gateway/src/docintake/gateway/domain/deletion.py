"""A deletion: what it names (sources of a collection, a whole collection, or a batch's documents), and
the command that removes what of it the knowledge graph has.

The sources named are read as an upload names them (a collection's name, a normalised source path).
Sources named that the collection does not have refuse the whole deletion (404), so does a collection
or a batch with no source; a deletion asked again once the first is done is therefore a 404, and one
asked while the first runs removes nothing twice.
"""

from dataclasses import dataclass, replace
from uuid import UUID

from docintake.contracts.api import DeletionAccepted, SourceEntry
from docintake.contracts.events import (
    DEFAULT_TENANT,
    DeletionRequested,
    DeletionRequestedData,
    DeletionScope,
    SourceToRemove,
    removal_id,
)
from docintake.gateway.domain.collections import valid_collection
from docintake.gateway.domain.refusals import BatchHasNoSources, CollectionNotFound, InvalidDeletion, SourceNotFound
from docintake.gateway.domain.source_paths import normalized_source_path

# Sources one request may name; a whole collection or batch is not bounded by it.
MAX_NAMED_SOURCES = 10_000


@dataclass(frozen=True)
class Selection:
    scope: DeletionScope
    collection: str | None = None
    paths: tuple[str, ...] = ()
    of_batch_id: UUID | None = None
    # Only the tenant's own sources are ever selected; the deletion is its tenant's, asked with key_id.
    tenant: str = DEFAULT_TENANT
    key_id: str | None = None

    def by(self, tenant: str, key_id: str | None) -> "Selection":
        return replace(self, tenant=tenant, key_id=key_id)


def named_sources(collection: str, paths: list[str]) -> Selection:
    """The sources `paths` of `collection`, normalised and each once; refuses none, too many or an empty path."""
    if not paths:
        raise InvalidDeletion("Name at least one source path to delete")
    if len(paths) > MAX_NAMED_SOURCES:
        raise InvalidDeletion(f"At most {MAX_NAMED_SOURCES} sources per request; {len(paths)} were named")
    normalised = []
    for raw in paths:
        path = normalized_source_path(raw, "")
        if not path:
            raise InvalidDeletion(f"The source path '{raw[:100]}' names nothing")
        normalised.append(path)
    return Selection("sources", valid_collection_named(collection), tuple(dict.fromkeys(normalised)))


def whole_collection(collection: str) -> Selection:
    return Selection("collection", valid_collection_named(collection))


def batch_documents(batch_id: UUID) -> Selection:
    return Selection("batch", of_batch_id=batch_id)


def valid_collection_named(collection: str) -> str:
    if not collection:
        raise InvalidDeletion("Name the collection to delete from")
    return valid_collection(collection)


def deletion_command(deletion_id: UUID, selection: Selection, found: list[SourceEntry]) -> DeletionRequested:
    """The command removing what of the selection the graph has; refuses a selection it has nothing of,
    or named sources it lacks."""
    if selection.scope == "sources":
        have = {source.source_path for source in found}
        missing = [path for path in selection.paths if path not in have]
        if missing:
            raise SourceNotFound(selection.collection or "", missing)
    if not found:
        if selection.scope == "batch" and selection.of_batch_id is not None:
            raise BatchHasNoSources(selection.of_batch_id)
        raise CollectionNotFound(selection.collection or "")
    return DeletionRequested(
        event_id=DeletionRequested.id_for(deletion_id),
        batch_id=deletion_id,
        tenant=selection.tenant,
        key_id=selection.key_id,
        data=DeletionRequestedData(
            scope=selection.scope, collection=selection.collection, of_batch_id=selection.of_batch_id,
            sources=[
                SourceToRemove(removal_id=removal_id(deletion_id, source.collection, source.source_path),
                               collection=source.collection, source_path=source.source_path, sha256=source.sha256)
                for source in found
            ],
        ),
    )


def accepted(command: DeletionRequested) -> DeletionAccepted:
    sources = command.data.sources
    return DeletionAccepted(
        deletion_id=command.batch_id, total_sources=len(sources),
        sources=[SourceEntry(collection=s.collection, source_path=s.source_path, sha256=s.sha256) for s in sources],
        message=f"Deletion of {len(sources)} source(s) accepted; follow it at /api/v1/deletions/{command.batch_id}",
    )
