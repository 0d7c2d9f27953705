"""Build the ingestor: its settings, the adapters it uses, and the FastStream app that runs it."""

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from faststream import FastStream

from docintake.ingestor.adapters.knowledge_graph import KnowledgeGraph
from docintake.ingestor.adapters.parser_pool import ParserPool
from docintake.ingestor.adapters.parsers.large import Spooling
from docintake.ingestor.adapters.staged_writes import StagedWriter
from docintake.ingestor.domain.document import ParsedDocument
from docintake.ingestor.entrypoints import probes
from docintake.ingestor.entrypoints.subscribers import announce, broker
from docintake.ingestor.service_layer.ports import Dependencies, Progress
from docintake.ingestor.settings import IngestorSettings
from docintake.platform.graphdb import open_driver
from docintake.platform.logging import get_logger
from docintake.platform.messaging import declare_topology
from docintake.platform.storage import ObjectStore
from docintake.platform.tracing import Tracing, configure_tracing

log = get_logger(__name__)


def build_app(settings: IngestorSettings | None = None, tracing: Tracing | None = None) -> FastStream:
    """The app consuming on the module-level broker (whose URL and prefetch come from the environment);
    `tracing`: what the settings ask (DOCINTAKE_OTLP_ENDPOINT) unless given."""
    settings = settings or IngestorSettings()
    tracing = tracing or configure_tracing("docintake-ingestor", settings)
    tracing.instrument_broker(broker)
    driver = open_driver(settings)
    staged = StagedWriter(driver, settings.neo4j_database, settings.staged_transaction_bytes,
                          settings.staged_lease_seconds)
    graph = KnowledgeGraph(driver, settings.neo4j_database, write_batch_size=settings.write_batch_size, staged=staged,
                           large_document_bytes=settings.large_document_bytes)
    spooling = Spooling(settings.large_document_bytes, settings.staged_transaction_bytes, settings.chunk_size,
                        settings.chunk_overlap)
    store = ObjectStore(settings)

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        # The text pass never OCRs: a document that needs it goes to the OCR queue, read by OCR workers
        # in processes of their own, within their own limits, started with the first scan.
        pool = ParserPool(settings.workers, settings.parse_timeout_seconds, settings.max_expanded_bytes,
                          ocr=dataclasses.replace(settings.ocr, deferred=True), spooling=spooling,
                          max_documents=settings.parser_max_documents)
        ocr_pool = ParserPool(settings.ocr_workers, settings.ocr_parse_timeout_seconds, settings.max_expanded_bytes,
                              ocr=settings.ocr, spooling=spooling, lazy=True) if settings.runs_ocr else None
        pools = [each for each in (pool if settings.runs_text else None, ocr_pool) if each is not None]
        for each in pools:
            await each.start()
        await graph.ensure_schema()
        await store.ensure_bucket()
        broker.context.set_global("settings", settings)
        broker.context.set_global("dependencies", Dependencies(
            storage=store, graph=graph, parse=pool.parse, work_dir=settings.work_dir,
            chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap,
            required_metadata=settings.required_fields, tracer=tracing.tracer("docintake.ingestor"),
            ocr_parse=partial(_ocr_parse, ocr_pool, settings.ocr_progress_interval_seconds) if ocr_pool else None,
            announce=announce,
        ))
        await broker.connect()
        await declare_topology(broker)

        async def checks() -> dict[str, bool]:
            return {"broker": await broker.ping(timeout=2), "storage": await store.ping(), "graph": await graph.ping()}

        probes_server = probes.serve(settings.ingestor_host, settings.ingestor_metrics_port, checks)
        yield
        if probes_server is not None:
            probes_server.shutdown()
            probes_server.server_close()
        pool.close()
        if ocr_pool is not None:
            ocr_pool.close()
        await driver.close()
        tracing.flush()

    app = FastStream(broker, lifespan=lifespan, logger=log)

    @app.after_startup
    async def ready() -> None:
        log.info("ready", role=settings.ingestor_role, workers=settings.workers, prefetch=settings.effective_prefetch,
                 ocr_workers=settings.ocr_workers, ocr_prefetch=settings.effective_ocr_prefetch)

    return app


async def _ocr_parse(pool: ParserPool, interval: float, path: Path, filename: str,
                     progress: Progress) -> ParsedDocument:
    return await pool.parse(path, filename, progress, interval)
