"""Fault tolerance of the running system: processes killed, servers restarted, the graph away for a while."""

import asyncio
import signal
import subprocess
import sys
import time

import pytest

from docintake.contracts.graphdb import open_driver
from tests.conftest import ROOT
from tests.e2e.conftest import System
from tests.support.batches import INGEST, TERMINAL, csv_mapping, upload

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def faulty_system(settings, tmp_path_factory):
    running = System(settings, tmp_path_factory.mktemp("faults")).start()
    yield running
    running.stop()
    servers("start")


def servers(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "deploy" / "native" / "servers.py"), *args], check=True)


def batch_of(count: int, paragraphs: int = 40) -> tuple[list[tuple[str, bytes]], tuple]:
    tag = time.time_ns()
    docs = [
        (f"fault-{tag}-{i}.md", "\n\n".join(f"## Part {p}\n\nFault {tag} {i} {p}. " * 3 for p in range(paragraphs)).encode())
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


async def test_an_ingestor_killed_mid_batch_is_replaced_and_the_batch_completes(faulty_system, settings):
    docs, mapping = batch_of(40)
    async with faulty_system.client() as api:
        batch_id = (await upload(api, docs, mapping))["batch_id"]
        await wait_for(api, batch_id, lambda s: s["processed_count"] >= 2, 60)
        ingestor = faulty_system.process("ingestor-1")
        ingestor.signal(signal.SIGKILL)
        await asyncio.sleep(0.5)
        ingestor.start()
        await assert_completed_exactly(api, settings, batch_id, len(docs))


async def test_rabbitmq_restarted_mid_batch_the_services_reconnect_and_the_batch_completes(faulty_system, settings):
    docs, mapping = batch_of(40)
    async with faulty_system.client() as api:
        batch_id = (await upload(api, docs, mapping))["batch_id"]
        await wait_for(api, batch_id, lambda s: s["processed_count"] >= 2, 60)
        servers("stop", "rabbitmq")
        await asyncio.sleep(2)
        servers("start", "rabbitmq")
        await assert_completed_exactly(api, settings, batch_id, len(docs))


async def test_neo4j_away_for_thirty_seconds_documents_are_retried_not_failed(faulty_system, settings):
    docs, mapping = batch_of(10)
    async with faulty_system.client() as api:
        batch_id = (await upload(api, docs, mapping))["batch_id"]
        servers("stop", "neo4j")
        try:
            await asyncio.sleep(30)
        finally:
            servers("start", "neo4j")
        await assert_completed_exactly(api, settings, batch_id, len(docs))


async def test_the_status_service_killed_and_restarted_ends_with_exact_counts(faulty_system, settings):
    docs, mapping = batch_of(40)
    async with faulty_system.client() as api:
        batch_id = (await upload(api, docs, mapping))["batch_id"]
        await wait_for(api, batch_id, lambda s: s["processed_count"] >= 2, 60)
        status_service = faulty_system.process("status")
        status_service.signal(signal.SIGKILL)
        await asyncio.sleep(3)
        status_service.start()
        await assert_completed_exactly(api, settings, batch_id, len(docs))
