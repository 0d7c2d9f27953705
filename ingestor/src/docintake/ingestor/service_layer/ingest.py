"""Ingest one queued document: validate, settle it without a parse if its source has its content already,
else fetch, parse, chunk, write; and say how it went."""

import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from docintake.contracts.events import DocumentQueued, Event, Timings
from docintake.ingestor.domain.chunking import chunk_sections
from docintake.ingestor.domain.failures import (
    GRAPH_UNAVAILABLE,
    GRAPH_WRITE_FAILED,
    INTERNAL_ERROR,
    OBJECT_MISSING,
    STORAGE_UNAVAILABLE,
    IngestError,
    NeedsOcr,
    TransientFailure,
)
from docintake.ingestor.domain.metadata import validated_metadata
from docintake.ingestor.domain.outcomes import failed, ingested, ocr_requested, progressed
from docintake.ingestor.domain.versions import Figures, settled_without_parsing
from docintake.ingestor.service_layer.ports import Dependencies, Graph
from docintake.platform.errors import GraphRefused, GraphUnavailable, ObjectMissing, StorageUnavailable
from docintake.platform.logging import get_logger
from docintake.platform.tracing import BATCH_ID, DOCUMENT_ID, annotate

log = get_logger(__name__)


class Stopwatch:
    def __init__(self) -> None:
        self.started = self.lap_started = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        elapsed, self.lap_started = (now - self.lap_started) * 1000, now
        return elapsed

    def total(self) -> float:
        return (time.perf_counter() - self.started) * 1000


async def ingest_document(event: DocumentQueued, deps: Dependencies, *, ocr: bool = False) -> list[Event]:
    """The events that say how it went, to publish in order: DocumentIngested (after the DocumentRemoved
    of the version it replaced, if any) or DocumentFailed; none when its batch was cancelled. The text pass
    (`ocr` false) hands a document with pages that need OCR on as OcrRequested; the OCR pass (`ocr`, on an
    OCR worker: deps.ocr_parse) reads those, publishing DocumentProgressed as its pages are done.

    Raises TransientFailure when a server could not be reached, so the caller can retry; anything
    else that goes wrong fails the document at once, so its batch does not wait for it.
    """
    annotate(event.batch_id, event.document_id)  # on the consume span this runs in
    try:
        return await _ingest(event, deps, ocr)
    except TransientFailure:
        raise
    except GraphUnavailable as exc:
        raise TransientFailure(GRAPH_UNAVAILABLE, str(exc)) from exc  # says it is Neo4j, and why
    except IngestError as exc:
        return [failed(event, exc.code, exc.message, retryable=exc.retryable)]
    except Exception as exc:
        log.exception("unexpected error; document failed")
        return [failed(
            event, INTERNAL_ERROR,
            f"The ingestor hit an unexpected error ({type(exc).__name__}: {exc}); its log has the details",
        )]


async def _ingest(event: DocumentQueued, deps: Dependencies, ocr: bool) -> list[Event]:
    ref = event.data.document
    if await _cancelled(event, deps.graph):
        return []
    metadata = validated_metadata(ref, deps.required_metadata)
    # Child spans of the consume span; a span an error leaves through records it.
    ids = {BATCH_ID: str(event.batch_id), DOCUMENT_ID: str(event.document_id)}

    clock = Stopwatch()
    current = await deps.graph.current_version(ref, event.tenant)
    settled = settled_without_parsing(current, ref)
    if current is not None and settled is not None:
        log.info("source has this content already; not parsed", change=settled.change)
        return ingested(event, current.figures, settled, Timings(total_ms=clock.total()))

    deps.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=deps.work_dir) as scratch:  # a large document's spool lives here too
        path = Path(scratch) / "document"
        try:
            with deps.tracer.start_as_current_span("fetch", attributes={**ids, "docintake.bytes": ref.size}):
                await deps.storage.download(ref.key, path)
        except ObjectMissing:
            return [failed(event, OBJECT_MISSING, "The uploaded file is no longer in storage; upload it again")]
        except StorageUnavailable as exc:
            raise TransientFailure(STORAGE_UNAVAILABLE, str(exc)) from exc  # says it is object storage, and why
        fetch_ms = clock.lap()
        with deps.tracer.start_as_current_span("ocr" if ocr else "parse",
                                               attributes={**ids, "docintake.content_type": ref.content_type}):
            if ocr:
                if deps.ocr_parse is None:
                    raise RuntimeError("an OCR job reached an ingestor without OCR workers")
                try:
                    parsed = await deps.ocr_parse(path, ref.filename, _progress_of(event, deps))
                except _BatchCancelled:  # the OCR pass stopped (its process with it) between two reports
                    log.info("batch cancelled; OCR stopped")
                    return []
            else:
                try:
                    parsed = await deps.parse(path, ref.filename)
                except NeedsOcr as needs:
                    log.info("document needs OCR; handed to the OCR workers", ocr_pages=needs.pages)
                    return [ocr_requested(event, needs.pages)]
        parse_ms = clock.lap()

        # a large document comes chunked already, in its spool
        chunks = parsed.spool or chunk_sections(parsed.sections, deps.chunk_size, deps.chunk_overlap)
        if await _cancelled(event, deps.graph):  # while it waited for a parser, which can take minutes
            return []
        try:
            with deps.tracer.start_as_current_span("write", attributes={**ids, "docintake.chunks": len(chunks)}):
                written = await deps.graph.write_document(ref, str(event.batch_id), metadata, parsed, chunks,
                                                          event.tenant)
        except GraphRefused as exc:
            log.exception("knowledge graph refused the document")
            return [failed(
                event, GRAPH_WRITE_FAILED, f"The knowledge graph refused the document ({exc.code}): {exc.message}"
            )]
    timings = Timings(fetch_ms=fetch_ms, parse_ms=parse_ms, write_ms=clock.lap(), total_ms=clock.total())
    log.info("document ingested", pages=parsed.pages, chunks=len(chunks), change=written.change,
             total_ms=round(timings.total_ms, 1))
    figures = Figures(
        parsed.detected_type, parsed.pages, len(chunks), parsed.characters, parsed.extraction, parsed.ocr_pages
    )
    return ingested(event, figures, written, timings)


class _BatchCancelled(Exception):
    """Raised through the OCR pass by its progress report, to stop it."""


def _progress_of(event: DocumentQueued, deps: Dependencies) -> Callable[[int, int], Awaitable[None]]:
    """Each report of the OCR pass: its batch cancelled meanwhile stops it; else its progress is published."""

    async def report(pages_done: int, pages_total: int) -> None:
        try:
            cancelled = await deps.graph.is_cancelled(str(event.batch_id))
        except GraphUnavailable:  # asked again at the next report, and before the write
            cancelled = False
        if cancelled:
            raise _BatchCancelled
        if deps.announce is None:
            return
        try:
            await deps.announce(progressed(event, pages_done, pages_total))
        except Exception as exc:  # noqa: BLE001 - progress is news, not state: the outcome still comes
            log.warning("OCR progress not published", error=repr(exc))

    return report


async def _cancelled(event: DocumentQueued, graph: Graph) -> bool:
    if await graph.is_cancelled(str(event.batch_id)):
        log.info("batch cancelled; document skipped")
        return True
    return False
