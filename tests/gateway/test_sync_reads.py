"""The sync's reads of the knowledge graph on the real Neo4j: each an index seek on the Source
(tenant, collection, path) constraint, the collection's paths read page by page in the index's order.
The constraint is the ingestor's (it creates it at start-up); created here as well, if absent."""

from docintake.gateway.adapters.source_catalog import LISTED_VERSIONS, SOURCE_PATHS_PAGE
from docintake.ingestor.adapters.knowledge_graph import SCHEMA
from docintake.platform.graphdb import open_driver

SOURCE_CONSTRAINT = next(statement for statement in SCHEMA if "(s.tenant, s.collection, s.path)" in statement)


def operators(plan: dict) -> list[str]:
    return [plan["operatorType"].split("@")[0], *(op for child in plan.get("children", []) for op in operators(child))]


async def plan_of(settings, query: str, parameters: dict) -> list[str]:
    driver = open_driver(settings)
    try:
        await driver.execute_query(SOURCE_CONSTRAINT)
        _, summary, _ = await driver.execute_query("EXPLAIN " + query, parameters)
    finally:
        await driver.close()
    assert summary.plan is not None
    return operators(summary.plan)


async def test_the_listed_paths_are_looked_up_by_the_constraint_index(settings):
    plan = await plan_of(settings, LISTED_VERSIONS, {"tenant": "default", "collection": "kb", "paths": ["a.md"]})
    assert "NodeUniqueIndexSeek" in plan and not any("Scan" in op for op in plan)


async def test_a_page_of_paths_is_read_in_index_order_without_sorting_the_collection(settings):
    plan = await plan_of(settings, SOURCE_PATHS_PAGE,
                         {"tenant": "default", "collection": "kb", "after": "", "page": 10})
    assert any(op.startswith("NodeUniqueIndexSeek") for op in plan) and not any("Scan" in op for op in plan)
    assert "Limit" in plan and not {"Top", "Sort", "PartialSort"} & set(plan)
