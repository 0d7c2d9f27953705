"""Fixtures of the status service's integration tests: the real Neo4j store and RabbitMQ broker."""

import pytest

from docintake.contracts.messaging import declare_topology, make_broker
from docintake.status.repository import Neo4jProgressRepository


@pytest.fixture(scope="session")
async def repo(settings):
    repository = Neo4jProgressRepository.connect(settings)
    await repository.create_schema()
    yield repository
    await repository.close()


@pytest.fixture(scope="session")
async def broker(settings):
    """A publisher of the events the gateway and the ingestor would send."""
    rabbit = make_broker(settings.rabbitmq_url)
    await rabbit.connect()
    await declare_topology(rabbit)
    yield rabbit
    await rabbit.stop()
