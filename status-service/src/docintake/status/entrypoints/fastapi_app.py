"""The FastAPI application; its lifespan runs the projection and the periodic sweeper next to the HTTP API."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from docintake.platform.logging import get_logger
from docintake.platform.security_headers import install_security_headers
from docintake.platform.tracing import Tracing, configure_tracing
from docintake.platform.web import install_error_handlers
from docintake.status import bootstrap
from docintake.status.entrypoints import health, http_api
from docintake.status.entrypoints.periodic_sweeper import run_sweeper
from docintake.status.entrypoints.webhook_deliveries import run_deliveries
from docintake.status.settings import StatusSettings

log = get_logger(__name__)


def create_app(settings: StatusSettings | None = None, tracing: Tracing | None = None) -> FastAPI:
    """`tracing`: what the settings ask (DOCINTAKE_OTLP_ENDPOINT) unless given."""
    settings = settings or StatusSettings()
    tracing = tracing or configure_tracing("docintake-status", settings)
    tracing.instrument_broker(bootstrap.broker)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Torn down in reverse: the sweeper stops, the broker finishes the messages in hand, the store closes.
        async with bootstrap.running(settings) as dependencies:
            sweeper = asyncio.create_task(run_sweeper(dependencies), name="status-sweeper")
            deliveries = asyncio.create_task(run_deliveries(dependencies.webhooks), name="status-webhooks")
            app.state.dependencies = dependencies
            log.info("ready", port=settings.status_port, prefetch=settings.status_prefetch)
            try:
                yield
            finally:
                log.info("stopping")
                for task in (deliveries, sweeper):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        tracing.flush()

    app = FastAPI(title="docintake status service", version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    install_security_headers(app, settings.cors_origin_list)
    http_api.install(app, settings)
    app.include_router(health.router)
    tracing.instrument_app(app)
    return app
