"""The Neo4j driver as every service opens it."""

from neo4j import AsyncDriver, AsyncGraphDatabase
from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from docintake.contracts.settings import Settings


def open_driver(settings: Settings, **options: object) -> AsyncDriver:
    """A driver for the configured Neo4j; `options` add to or override the driver's configuration."""
    return AsyncGraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password),
        **{"max_connection_pool_size": 50, "connection_acquisition_timeout": 10, "connection_timeout": 5, **options},
    )


def is_transient(error: BaseException) -> bool:
    """Whether a failed Neo4j call may succeed when tried again later: the server out of reach, or
    an error the driver calls retryable. Meant for idempotent work: a commit whose outcome is
    unknown (IncompleteCommit, a ServiceUnavailable) counts as transient too."""
    if isinstance(error, ServiceUnavailable | SessionExpired):
        return True
    if isinstance(error, Neo4jError | DriverError):
        return error.is_retryable()
    return isinstance(error, OSError)
