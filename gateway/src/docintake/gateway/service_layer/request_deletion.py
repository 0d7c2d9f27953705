"""Take on a deletion: find what of it the knowledge graph has, announce the command, answer at once."""

from typing import Protocol
from uuid import uuid4

from docintake.contracts.api import DeletionAccepted, SourceEntry
from docintake.gateway.domain.deletion import Selection, accepted, deletion_command
from docintake.gateway.domain.refusals import GraphUnavailable, UploadFailed
from docintake.gateway.service_layer.ports import Publish
from docintake.platform import errors
from docintake.platform.logging import get_logger

log = get_logger(__name__)


class SourceCatalog(Protocol):
    """The sources the knowledge graph has (raises docintake.platform.errors.GraphUnavailable)."""

    async def sources(self, selection: Selection) -> list[SourceEntry]: ...


async def request_deletion(selection: Selection, catalog: SourceCatalog, publish: Publish) -> DeletionAccepted:
    """The deletion accepted once the broker confirmed its command; refuses (404) a selection with nothing
    in the graph, and (503) when the graph or the broker cannot be reached, having deleted nothing."""
    try:
        found = await catalog.sources(selection)
    except (errors.GraphUnavailable, errors.GraphRefused) as exc:
        raise GraphUnavailable() from exc
    command = deletion_command(uuid4(), selection, found)
    try:
        await publish([command])
    except Exception as exc:  # noqa: BLE001 - whatever the broker client raised, nothing was announced
        raise UploadFailed() from exc
    log.info("deletion requested", batch_id=str(command.batch_id), tenant=command.tenant, key_id=command.key_id,
             scope=selection.scope, collection=selection.collection, sources=len(command.data.sources))
    return accepted(command)
