"""The metadata a document must carry to be ingested."""

from docintake.contracts.events import DocumentRef
from docintake.contracts.metadata import DocumentMetadata, MetadataError
from docintake.ingestor.domain.failures import METADATA_INVALID, IngestError


def validated_metadata(ref: DocumentRef, required: tuple[str, ...]) -> DocumentMetadata:
    """The document's metadata as the schema reads it, else IngestError(METADATA_INVALID) saying why."""
    try:
        return DocumentMetadata.validate_raw(ref.metadata, required)
    except MetadataError as exc:
        raise IngestError(METADATA_INVALID, str(exc)) from exc
