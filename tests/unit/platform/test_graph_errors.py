"""How Neo4j's errors leave the platform's graph adapter: out of reach is worth a retry, a refusal or a limit is not."""

import pytest
from neo4j.exceptions import ConnectionAcquisitionTimeoutError, Neo4jError, ServiceUnavailable

from docintake.platform.errors import GraphRefused, GraphUnavailable
from docintake.platform.graphdb import graph_errors


def server_error(code: str) -> Neo4jError:
    """The error the driver raises for a failure the server reports with `code`."""
    return Neo4jError._hydrate_neo4j(code=code, message=f"the server said {code}")


async def leaving(error: BaseException) -> BaseException:
    with pytest.raises(Exception) as raised:
        async with graph_errors():
            raise error
    return raised.value


async def test_a_server_out_of_reach_is_unavailable():
    assert isinstance(await leaving(ServiceUnavailable("connection refused")), GraphUnavailable)


async def test_a_pool_whose_every_connection_stayed_busy_is_unavailable():
    busy = ConnectionAcquisitionTimeoutError("failed to obtain a connection from the pool within 60.0s")
    assert not busy.is_retryable()  # what the driver says of it
    assert isinstance(await leaving(busy), GraphUnavailable)


async def test_a_deadlock_the_server_calls_transient_is_unavailable():
    error = await leaving(server_error("Neo.TransientError.Transaction.DeadlockDetected"))
    assert isinstance(error, GraphUnavailable)


@pytest.mark.parametrize("limit", ["MemoryPoolOutOfMemoryError", "TransactionMemoryLimit"])
async def test_a_memory_limit_is_refused_for_good_though_the_server_calls_it_transient(limit):
    code = f"Neo.TransientError.General.{limit}"
    assert server_error(code).is_retryable()
    error = await leaving(server_error(code))
    assert isinstance(error, GraphRefused) and error.code == code


async def test_a_syntax_error_is_refused():
    error = await leaving(server_error("Neo.ClientError.Statement.SyntaxError"))
    assert isinstance(error, GraphRefused)


async def test_an_error_that_is_not_the_drivers_passes_unchanged():
    assert isinstance(await leaving(KeyError("x")), KeyError)
