"""Fault tolerance of the running system: processes killed, servers restarted, the graph away for a while."""

import asyncio
import signal
import time

import pytest

from deploy.native import isolated
from docintake.platform.graphdb import open_driver
from tests.e2e.conftest import System
from tests.support.batches import INGEST, TERMINAL, csv_mapping, upload

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def faulty_system(settings, tmp_path_factory):
    running = System(settings, tmp_path_factory.mktemp("faults")).start()
    yield running
    running.stop()
    isolated.servers("start")


def batch_of(count: int, paragraphs: int = 40) -> tuple[list[tuple[str, bytes]], tuple]:
    tag = time.time_ns()
    docs = [
        (f"fault-{tag}-{i}.md",
         "\n\n".join(f"## Part {p}\n\nFault {tag} {i} {p}. " * 3 for p in range(paragraphs)).encode())
        for i in range(count)
    ]
    return docs, csv_mapping({name: {"author": "Ada"} for name, _ in docs})


async def poll(api, batch_id: str) -> dict | None:
    """The batch's status, or None while the system cannot answer (that is the fault under test)."""
    try:
        response = await api.get(f"{INGEST}/batch/{batch_id}/status", timeout=10)
    except Exception:
        return None
    return response.json() if response.status_code == 200 else None


async def wait_for(api, batch_id: str, condition, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = await poll(api, batch_id)
        if current is not None and condition(current):
            return current
        await asyncio.sleep(0.3)
    raise AssertionError(f"condition not reached within {timeout}s; last status {await poll(api, batch_id)}")


def finished(status: dict) -> bool:
    return status["status"] in TERMINAL


async def documents_in_graph(settings, batch_id: str) -> int:
    driver = open_driver(settings)
    try:
        records, _, _ = await driver.execute_query(
            "MATCH (d:Document) WHERE $batch_id IN d.batch_ids RETURN count(d) AS n", batch_id=batch_id)
    finally:
        await driver.close()
    return records[0]["n"]


async def assert_completed_exactly(api, settings, batch_id: str, count: int, timeout: float = 240) -> None:
    final = await wait_for(api, batch_id, finished, timeout)
    assert final["status"] == "completed", final
    assert (final["total_documents"], final["processed_count"], final["failed_count"]) == (count, count, 0)
    assert await documents_in_graph(settings, batch_id) == count


async def a_batch_survives(system, settings, fault, documents: int = 40, once_started: bool = True) -> None:
    """Upload a batch, let `fault` strike while it runs, and see it complete with exact counts."""
    docs, mapping = batch_of(documents)
    async with system.client() as api:
        batch_id = (await upload(api, docs, mapping))["batch_id"]
        if once_started:
            await wait_for(api, batch_id, lambda s: s["processed_count"] >= 2, 60)
        await fault()
        await assert_completed_exactly(api, settings, batch_id, len(docs))


@pytest.mark.parametrize("service", ["ingestor-1", "status"])
async def test_a_service_killed_mid_batch_and_started_again_ends_with_exact_counts(faulty_system, settings, service):
    async def kill_and_start_again():
        process = faulty_system.process(service)
        process.signal(signal.SIGKILL)
        await asyncio.sleep(1)
        process.start()

    await a_batch_survives(faulty_system, settings, kill_and_start_again)


async def test_rabbitmq_restarted_mid_batch_the_services_reconnect_and_the_batch_completes(faulty_system, settings):
    async def restart_rabbitmq():
        isolated.servers("stop", "rabbitmq")
        await asyncio.sleep(2)
        isolated.servers("start", "rabbitmq")

    await a_batch_survives(faulty_system, settings, restart_rabbitmq)


async def test_neo4j_away_for_thirty_seconds_documents_are_retried_not_failed(faulty_system, settings):
    async def neo4j_away():
        isolated.servers("stop", "neo4j")
        try:
            await asyncio.sleep(30)
        finally:
            isolated.servers("start", "neo4j")

    await a_batch_survives(faulty_system, settings, neo4j_away, documents=10, once_started=False)
