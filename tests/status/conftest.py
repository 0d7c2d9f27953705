"""Fixtures of the status service's integration tests: the progress store on the real Neo4j."""

import pytest

from docintake.status.adapters.neo4j_progress_repository import Neo4jProgressRepository


@pytest.fixture(scope="session")
async def repo(settings):
    repository = Neo4jProgressRepository.connect(settings)
    await repository.create_schema()
    yield repository
    await repository.close()
