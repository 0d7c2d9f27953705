"""The graph's migrations run once on a graph, on the real Neo4j: the first start after them migrates,
every later start finds their marker and leaves the graph as it is."""

from uuid import uuid4

from docintake.contracts.events import DEFAULT_TENANT
from docintake.ingestor.adapters.knowledge_graph import MIGRATIONS, KnowledgeGraph


async def tenant_of(graph, sha256: str):
    records, _, _ = await graph.execute_query("MATCH (d:Document {sha256: $sha256}) RETURN d.tenant AS tenant",
                                              sha256=sha256)
    return records[0]["tenant"]


async def test_the_tenant_migration_tags_untagged_nodes_once_and_a_later_start_does_not_run_it_again(graph):
    knowledge_graph = KnowledgeGraph(graph)
    await graph.execute_query("MATCH (m:Migration {name: 'tenants'}) DELETE m")
    before, after = uuid4().hex, uuid4().hex
    await graph.execute_query("CREATE (:Document {sha256: $sha256})", sha256=before)

    await knowledge_graph.ensure_schema()
    assert await tenant_of(graph, before) == DEFAULT_TENANT

    await graph.execute_query("CREATE (:Document {sha256: $sha256})", sha256=after)
    await knowledge_graph.ensure_schema()
    assert await tenant_of(graph, after) is None
    records, _, _ = await graph.execute_query("MATCH (m:Migration) RETURN collect(m.name) AS names")
    assert sorted(records[0]["names"]) == sorted(MIGRATIONS)
    await graph.execute_query("MATCH (d:Document) WHERE d.sha256 IN $shas DETACH DELETE d", shas=[before, after])
