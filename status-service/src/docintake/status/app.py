"""The FastAPI application; its lifespan runs the projection and the periodic chores next to the HTTP API."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from docintake.contracts.events import utcnow
from docintake.platform.logging import get_logger
from docintake.platform.messaging import declare_topology, make_broker
from docintake.platform.web import install_error_handlers
from docintake.status import ops
from docintake.status.consumer import subscribe_projection
from docintake.status.http_api import api_router, install_status_error_handlers
from docintake.status.maintenance import run_maintenance
from docintake.status.repository import Neo4jProgressRepository
from docintake.status.runtime import Runtime
from docintake.status.settings import StatusSettings
from docintake.status.shared_reads import SharedReads

log = get_logger(__name__)


def create_app(settings: StatusSettings | None = None) -> FastAPI:
    settings = settings or StatusSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Torn down in reverse: the chores stop, the broker finishes the messages in hand, the store closes.
        async with AsyncExitStack() as running:
            repo = Neo4jProgressRepository.connect(settings)
            running.push_async_callback(repo.close)
            await repo.create_schema()

            broker = make_broker(settings.rabbitmq_url, prefetch=settings.status_prefetch)
            runtime = Runtime(settings=settings, repo=repo, broker=broker, clock=utcnow,
                              shared_reads=SharedReads(settings.status_read_max_age_seconds))
            subscribe_projection(broker, repo, runtime.clock, runtime.publish)
            running.push_async_callback(broker.stop)
            await broker.connect()
            await declare_topology(broker)
            await broker.start()

            chores = asyncio.create_task(run_maintenance(runtime), name="status-maintenance")
            running.push_async_callback(_cancel, chores)
            app.state.runtime = runtime
            log.info("ready", port=settings.status_port, prefetch=settings.status_prefetch)
            yield
            log.info("stopping")

    app = FastAPI(title="docintake status service", version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    install_status_error_handlers(app)
    app.include_router(ops.router)
    app.include_router(api_router(settings))
    return app


async def _cancel(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
