"""The services' Neo4j driver, on the real Neo4j."""

import logging

from docintake.platform.graphdb import open_driver


async def test_a_query_naming_a_property_no_node_has_yet_logs_no_warning(settings, caplog):
    driver = open_driver(settings)
    try:
        with caplog.at_level(logging.WARNING, logger="neo4j"):
            _, summary, _ = await driver.execute_query(
                "MATCH (n:NoSuchLabelYet) RETURN n.no_such_property_yet AS value")
    finally:
        await driver.close()
    assert not [status for status in summary.gql_status_objects if status.is_notification]
    assert not [record for record in caplog.records if record.name.startswith("neo4j")]
