"""The Neo4j driver as every service opens it."""

from neo4j import AsyncDriver, AsyncGraphDatabase

from docintake.contracts.settings import Settings


def open_driver(settings: Settings, **options: object) -> AsyncDriver:
    """A driver for the configured Neo4j; `options` add to or override the driver's configuration."""
    return AsyncGraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password),
        **{"max_connection_pool_size": 50, "connection_acquisition_timeout": 10, "connection_timeout": 5, **options},
    )
