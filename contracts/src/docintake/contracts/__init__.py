"""Shared contracts of docintake: events, broker topology, settings and logging."""

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
