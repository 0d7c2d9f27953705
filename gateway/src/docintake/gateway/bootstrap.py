"""Build the gateway: settings, broker, object store, status-service client, and the FastAPI app that uses them."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from docintake.gateway.adapters import event_publishers
from docintake.gateway.adapters.idempotency_store import IdempotencyStore
from docintake.gateway.adapters.source_catalog import GraphSourceCatalog
from docintake.gateway.adapters.status_service import StatusService
from docintake.gateway.domain.quotas import RequestRates
from docintake.gateway.domain.stream_budget import StreamBudget
from docintake.gateway.entrypoints import deletion_routes, probes, status_routes, sync_routes, upload
from docintake.gateway.entrypoints.periodic_reaper import run_reaper
from docintake.gateway.entrypoints.refusal_answers import install_refusal_answers
from docintake.gateway.settings import GatewaySettings
from docintake.platform.logging import get_logger
from docintake.platform.messaging import declare_topology, make_broker
from docintake.platform.security_headers import install_security_headers
from docintake.platform.storage import ObjectStore
from docintake.platform.tenants import KeyRing
from docintake.platform.tracing import Tracing, configure_tracing
from docintake.platform.web import install_error_handlers

log = get_logger(__name__)


def create_app(settings: GatewaySettings | None = None, tracing: Tracing | None = None) -> FastAPI:
    """`tracing`: what the settings ask (DOCINTAKE_OTLP_ENDPOINT) unless given."""
    settings = settings or GatewaySettings()
    tracing = tracing or configure_tracing("docintake-gateway", settings)
    broker = make_broker(settings.rabbitmq_url)
    tracing.instrument_broker(broker)
    store = ObjectStore(settings)
    status_service = StatusService(settings.status_url, settings.internal_key, settings.max_streams)
    sources = GraphSourceCatalog.connect(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        broker.include_router(event_publishers.router)  # the publishers publish through this app's broker
        await broker.connect()
        await declare_topology(broker)
        await broker.start()
        await store.ensure_bucket()
        await app.state.answers.ensure_expiry()
        reaper = asyncio.create_task(run_reaper(store, status_service, settings))
        log.info("ready", port=settings.gateway_port, bucket=store.bucket)
        yield
        reaper.cancel()
        await status_service.aclose()
        await sources.close()
        await broker.stop()
        tracing.flush()
        log.info("stopped")

    app = FastAPI(title="docintake", summary="Batch document ingestion for knowledge bases", version="0.1.0",
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.keys = KeyRing.from_settings(settings.tenants_file, settings.api_key_list)
    app.state.rates = RequestRates()
    app.state.broker = broker
    app.state.store = store
    app.state.answers = IdempotencyStore(store, timedelta(hours=settings.idempotency_key_lifetime_hours))
    app.state.status_service = status_service
    app.state.sources = sources
    app.state.publish = event_publishers.publish_events
    app.state.streams = StreamBudget(settings.max_streams_per_key, settings.max_streams)
    install_error_handlers(app)
    install_refusal_answers(app)
    install_security_headers(app, settings.cors_origin_list)
    for routes in (upload.router, status_routes.router, deletion_routes.router, sync_routes.router, probes.router):
        app.include_router(routes)
    tracing.instrument_app(app)
    return app
