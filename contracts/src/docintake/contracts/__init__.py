"""The contract of docintake's events: the event models, the API's shapes, the metadata model and the topology names."""

from docintake.contracts.events import (
    BatchCancelled,
    BatchCompleted,
    BatchCreated,
    DocumentFailed,
    DocumentIngested,
    DocumentQueued,
    DocumentRef,
    Event,
    parse_event,
)
from docintake.contracts.metadata import DocumentMetadata

__all__ = [
    "BatchCancelled",
    "BatchCompleted",
    "BatchCreated",
    "DocumentFailed",
    "DocumentIngested",
    "DocumentMetadata",
    "DocumentQueued",
    "DocumentRef",
    "Event",
    "parse_event",
]
