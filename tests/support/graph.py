"""Ask the knowledge graph what a test needs to know of it."""

from docintake.platform.graphdb import open_driver
from docintake.platform.settings import Settings


async def graph_count(settings: Settings, query: str, **parameters: object) -> int:
    """The `n` a counting query returns."""
    driver = open_driver(settings)
    try:
        records, _, _ = await driver.execute_query(query, parameters)
        return records[0]["n"]
    finally:
        await driver.close()
