"""Every statement the services send to Neo4j finds its nodes through an index or a constraint: each is
planned with EXPLAIN on the real Neo4j, with the services' schema in place, and none may scan a
label or all nodes (a cost that grows with the graph). Statements are every module-level Cypher text
of the adapters that talk to Neo4j; the fragments they are assembled from are left out by name."""

import re
from types import ModuleType

import pytest

from docintake.gateway.adapters import source_catalog
from docintake.ingestor.adapters import knowledge_graph, staged_writes
from docintake.platform.graphdb import open_driver
from docintake.status.adapters import neo4j_progress_repository, neo4j_webhook_deliveries

MODULES = (knowledge_graph, staged_writes, source_catalog, neo4j_progress_repository, neo4j_webhook_deliveries)
# Parts of statements, never sent alone.
FRAGMENTS = {"ORPHANED_VERSION", "LINK_VERSION", "CHUNKS_CREATED", "VERSION_REMOVED",
             "_WITH_ITEMS", "_LOCK", "_OF_A_READABLE_BATCH", "_LOCKED"}
SCANS = {"AllNodesScan", "NodeByLabelScan", "DirectedAllRelationshipsScan", "UndirectedAllRelationshipsScan",
         "DirectedRelationshipTypeScan", "UndirectedRelationshipTypeScan"}
STATEMENT = re.compile(r"^\s*(MATCH|MERGE|OPTIONAL MATCH|UNWIND|CALL|CREATE|WITH)\b")
# Parameters whose value is a list or a map; the rest are planned with a string or a number.
LISTS = {"documents", "sources", "paths", "chunks", "authors", "departments", "tags", "categories", "event_ids",
         "items", "unfinished", "terminal", "deliveries", "ids", "parked"}
MAPS = {"document", "properties", "batch"}
NUMBERS = {"lease_seconds", "limit", "page", "since", "cutoff", "settled_before", "applied_before", "finished_before",
           "after_created_at", "now", "lease_until", "before"}


def statements(module: ModuleType) -> list[tuple[str, str]]:
    """The module's Cypher constants (named in capitals), as (module.NAME, text)."""
    short = module.__name__.rsplit(".", 1)[-1]
    return [(f"{short}.{name}", value) for name, value in vars(module).items()
            if name.lstrip("_").isupper() and isinstance(value, str) and name not in FRAGMENTS
            and STATEMENT.match(value)]


ALL = [statement for module in MODULES for statement in statements(module)]


def parameters(query: str) -> dict[str, object]:
    def value(name: str) -> object:
        if name in LISTS:
            return []
        if name in MAPS:
            return {}
        return 1 if name in NUMBERS else "x"

    return {name: value(name) for name in set(re.findall(r"\$(\w+)", query))}


def operators(plan) -> list[str]:
    return [plan["operatorType"].split("@")[0], *(op for child in plan.get("children", []) for op in operators(child))]


@pytest.fixture(scope="module")
async def driver(settings):
    driver = open_driver(settings)
    for module in MODULES:
        for statement in getattr(module, "SCHEMA", ()):
            await driver.execute_query(statement)
    yield driver
    await driver.close()


def test_every_adapter_statement_is_collected():
    names = {name for name, _ in ALL}
    assert {"knowledge_graph.WRITE_DOCUMENTS", "staged_writes.STAGE", "staged_writes.SWITCH",
            "staged_writes.ABANDONED", "source_catalog.COLLECTION_SOURCES", "neo4j_progress_repository._SAVE",
            "neo4j_progress_repository._TENANT_TOTALS", "neo4j_webhook_deliveries._CLAIM"} <= names


@pytest.mark.parametrize(("name", "query"), ALL, ids=[name for name, _ in ALL])
async def test_the_statement_uses_an_index_not_a_scan(driver, name, query):
    _, summary, _ = await driver.execute_query("EXPLAIN " + query, parameters(query))
    planned = operators(summary.plan)
    assert not SCANS & set(planned), f"{name} scans: {planned}"
