"""The Neo4j driver as every service opens it, and the one place its errors become the project's."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from neo4j import AsyncDriver, AsyncGraphDatabase, NotificationMinimumSeverity
from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from docintake.platform.errors import GraphRefused, GraphUnavailable
from docintake.platform.settings import Settings


def open_driver(settings: Settings, **options: Any) -> AsyncDriver:
    """A driver for the configured Neo4j; `options` add to or override the driver's configuration. The server's
    notifications (a planner's hint that a property key does not exist yet, on a fresh graph) are off: they
    would be a warning in the log on every query."""
    return AsyncGraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password),
        **{"max_connection_pool_size": 50, "connection_acquisition_timeout": 10, "connection_timeout": 5,
           "notifications_min_severity": NotificationMinimumSeverity.OFF, **options},
    )


# Neo4j calls these transient, yet the same write meets the same memory limit every time it is tried.
MEMORY_LIMITS = frozenset({"MemoryPoolOutOfMemoryError", "TransactionMemoryLimit", "TransactionOutOfMemoryError"})


def is_transient(error: BaseException) -> bool:
    """Whether a failed Neo4j call may succeed when tried again later: the server out of reach, or
    an error the driver calls retryable, but never a memory limit. Meant for idempotent work: a
    commit whose outcome is unknown (IncompleteCommit, a ServiceUnavailable) counts as transient too."""
    if isinstance(error, ServiceUnavailable | SessionExpired):
        return True
    if isinstance(error, Neo4jError) and (error.code or "").rpartition(".")[2] in MEMORY_LIMITS:
        return False
    if isinstance(error, Neo4jError | DriverError):
        return error.is_retryable()
    return isinstance(error, OSError)


def translated(error: BaseException) -> Exception | None:
    """The project's error for a driver error (None for an error that is not the driver's)."""
    if is_transient(error):
        return GraphUnavailable(f"Neo4j unavailable: {error}")
    if isinstance(error, Neo4jError):
        return GraphRefused(error.code or "Neo.Unknown", error.message or str(error))
    if isinstance(error, DriverError):
        return GraphRefused("Driver", str(error))
    return None


@asynccontextmanager
async def graph_errors() -> AsyncIterator[None]:
    """Around a call of the driver: its errors leave as GraphUnavailable or GraphRefused."""
    try:
        yield
    except (GraphUnavailable, GraphRefused):
        raise
    except Exception as exc:
        project_error = translated(exc)
        if project_error is None:
            raise
        raise project_error from exc
