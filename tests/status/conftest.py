"""Fixtures of the status service's integration tests: its stores on the real Neo4j, and the service as a
process (a module asks for settings of its own by overriding `status_settings`)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import pytest

from docintake.platform.graphdb import GraphStore
from docintake.status.adapters.neo4j_progress_repository import Neo4jProgressRepository
from docintake.status.adapters.neo4j_webhook_deliveries import Neo4jDeliveryStore
from tests.support.status_service import StatusService

S = TypeVar("S", bound=GraphStore)


@asynccontextmanager
async def connected(store: type[S], settings) -> AsyncIterator[S]:
    """The store connected, its schema in place; closed on the way out."""
    opened = store.connect(settings)
    await opened.create_schema()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(scope="session")
async def repo(settings):
    async with connected(Neo4jProgressRepository, settings) as store:
        yield store


@pytest.fixture
async def another_repo(settings):
    """The progress store connected a second time, as another replica of the service would."""
    async with connected(Neo4jProgressRepository, settings) as store:
        yield store


@pytest.fixture(scope="session")
async def neo4j_deliveries(settings):
    async with connected(Neo4jDeliveryStore, settings) as store:
        yield store


@pytest.fixture(scope="module")
def status_settings() -> dict[str, object]:
    """The DOCINTAKE_* settings of the module's status service, beside the tests' own (none by default)."""
    return {}


@pytest.fixture(scope="module")
async def service(tmp_path_factory, status_settings):
    process = await StatusService(tmp_path_factory.mktemp("status") / "service.log", **status_settings).start()
    yield process
    assert await process.stop() == 0


@pytest.fixture(scope="module")
async def http(service):
    async with service.client() as client:
        yield client
