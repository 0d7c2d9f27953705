"""The base of every Neo4j adapter: reads routed to readers, its errors translated, and never more calls
under way than the driver has connections (one more would wait for a connection and could time out)."""

import asyncio
from types import SimpleNamespace

import pytest
from neo4j import RoutingControl
from neo4j.exceptions import ServiceUnavailable

from docintake.platform.errors import GraphUnavailable
from docintake.platform.graphdb import GraphStore


class CountingDriver:
    """Answers every query after a pause, counting how many were under way at once."""

    def __init__(self, error: Exception | None = None) -> None:
        self.under_way = self.most_at_once = 0
        self.calls: list[tuple[str, dict, dict]] = []
        self.error = error

    async def execute_query(self, query, parameters, **options):
        self.calls.append((query, parameters, options))
        self.under_way += 1
        self.most_at_once = max(self.most_at_once, self.under_way)
        try:
            await asyncio.sleep(0.01)
            if self.error is not None:
                raise self.error
            return SimpleNamespace(records=[{"query": query}])
        finally:
            self.under_way -= 1


async def test_reads_go_to_readers_of_the_database_and_no_more_at_once_than_there_are_connections():
    driver = CountingDriver()
    store = GraphStore(driver, "graph", connections=3)

    answers = await asyncio.gather(*(store._read("RETURN $n", n=n) for n in range(10)))

    assert answers == [[{"query": "RETURN $n"}]] * 10
    assert driver.most_at_once == 3
    assert sorted(parameters["n"] for _, parameters, _ in driver.calls) == list(range(10))
    assert {(options["database_"], options["routing_"]) for _, _, options in driver.calls} == {
        ("graph", RoutingControl.READ)}


async def test_a_read_of_a_store_out_of_reach_is_unavailable_and_gives_its_connection_back():
    store = GraphStore(CountingDriver(ServiceUnavailable("connection refused")), "graph", connections=1)
    for _ in range(2):
        with pytest.raises(GraphUnavailable):
            await store._read("RETURN 1")
