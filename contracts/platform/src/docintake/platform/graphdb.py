"""The Neo4j driver as every service opens it, and the one place its errors become the project's."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar, Self

from neo4j import AsyncDriver, AsyncGraphDatabase, NotificationMinimumSeverity, Record, RoutingControl
from neo4j.exceptions import (
    ClientError,
    ConnectionAcquisitionTimeoutError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from docintake.platform.errors import GraphRefused, GraphUnavailable
from docintake.platform.settings import Settings

POOL_SIZE = 50  # connections of a driver, unless its options say otherwise


def open_driver(settings: Settings, **options: Any) -> AsyncDriver:
    """A driver for the configured Neo4j; `options` add to or override the driver's configuration. The server's
    notifications (a planner's hint that a property key does not exist yet, on a fresh graph) are off: they
    would be a warning in the log on every query."""
    return AsyncGraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password),
        **{"max_connection_pool_size": POOL_SIZE, "connection_acquisition_timeout": 10, "connection_timeout": 5,
           "notifications_min_severity": NotificationMinimumSeverity.OFF, **options},
    )


# Neo4j calls these transient, yet the same write meets the same memory limit every time it is tried.
MEMORY_LIMITS = frozenset({"MemoryPoolOutOfMemoryError", "TransactionMemoryLimit", "TransactionOutOfMemoryError"})


def is_transient(error: BaseException) -> bool:
    """Whether a failed Neo4j call may succeed when tried again later: the server out of reach, or
    an error the driver calls retryable, but never a memory limit. Meant for idempotent work: a
    commit whose outcome is unknown (IncompleteCommit, a ServiceUnavailable) counts as transient too."""
    if isinstance(error, ServiceUnavailable | SessionExpired | ConnectionAcquisitionTimeoutError):
        return True  # (the last: every connection of the pool was busy for the whole acquisition timeout)
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


class GraphStore:
    """What every adapter on Neo4j starts from: its driver and database, the call of a READ-routed query,
    and never more calls under way than the driver has connections (one more would wait for a connection,
    and one that waits past the acquisition timeout fails for good)."""

    # How the adapter's driver differs from open_driver's.
    driver_options: ClassVar[dict[str, Any]] = {}
    # The constraints and indexes its statements need.
    schema: ClassVar[tuple[str, ...]] = ()

    def __init__(self, driver: AsyncDriver, database: str, connections: int = POOL_SIZE):
        self._driver = driver
        self._database = database
        self._calls = asyncio.Semaphore(connections)

    @classmethod
    def connect(cls, settings: Settings) -> Self:
        return cls(open_driver(settings, **cls.driver_options), settings.neo4j_database,
                   cls.driver_options.get("max_connection_pool_size", POOL_SIZE))

    async def close(self) -> None:
        await self._driver.close()

    async def create_schema(self) -> None:
        for statement in self.schema:
            try:
                await self._driver.execute_query(statement, database_=self._database)
            except ClientError as exc:
                # Another instance starting at the same moment may have created it first.
                if "AlreadyExists" not in (exc.code or ""):
                    raise

    @asynccontextmanager
    async def _call(self) -> AsyncIterator[None]:
        """Around a call of the driver: a connection's turn, and its errors translated."""
        async with self._calls, graph_errors():
            yield

    async def _read(self, query: str, **parameters: Any) -> list[Record]:
        async with self._call():
            result = await self._driver.execute_query(query, parameters, database_=self._database,
                                                      routing_=RoutingControl.READ)
        return list(result.records)
