"""Two tenants on one running system: neither sees, lists, streams, cancels, retries, deletes or syncs
the other's batches and sources; the graph keeps each tenant's nodes apart; the events and the status
name the tenant and who asked; a key taken out of the tenants file stops working, its twin does not;
a tenant over its rate is refused with Retry-After; one tenant's flood does not hold up another's
small batch."""

import asyncio
import json
import os
import time
from uuid import uuid4

import pytest

from docintake.platform.tenants import hashed
from tests.e2e.conftest import System
from tests.support.batches import COLLECTIONS, INGEST, csv_mapping, finished_deletion, wait_until_finished
from tests.support.broker import listen
from tests.support.eventually import eventually
from tests.support.graph import graph_count
from tests.support.http import client

KEYS = {"acme-1": "acme-key-one", "acme-2": "acme-key-two", "globex-1": "globex-key", "ops-1": "ops-key",
        "limited-1": "limited-key"}
# A flood of one tenant, and the small batch of another that must not wait for it.
FLOOD_BATCHES, FLOOD_SIZE, SMALL = 10, 100, 5


def tenants(acme_keys=("acme-1", "acme-2")) -> dict:
    return {"tenants": {
        "acme": {"keys": {key_id: hashed(KEYS[key_id]) for key_id in acme_keys}},
        "globex": {"keys": {"globex-1": hashed(KEYS["globex-1"])}},
        "ops": {"keys": {"ops-1": hashed(KEYS["ops-1"])}, "admin": True},
        "limited": {"keys": {"limited-1": hashed(KEYS["limited-1"])}, "requests_per_second": 2},
    }}


def write(path, content: dict) -> None:
    path.write_text(json.dumps(content))
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 1))  # seen as a change however soon it comes


@pytest.fixture(scope="module")
def tenants_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tenants") / "tenants.json"
    write(path, tenants())
    return path


@pytest.fixture(scope="module")
def two_tenant_system(settings, tmp_path_factory, tenants_file):
    running = System(settings, tmp_path_factory.mktemp("system"),
                     env={"DOCINTAKE_TENANTS_FILE": str(tenants_file), "DOCINTAKE_SERVICE_KEY": "service-key"}).start()
    yield running
    running.stop()


def as_tenant(system: System, key_id: str):
    return client(system.base_url, KEYS[key_id])


async def ingest(http, collection: str, run: str) -> str:
    """The same file, under the same source path, as every tenant uploads it."""
    files = [("files", ("handbook/setup.txt", f"Setup notes {run}.".encode(), "text/plain"))]
    mapping = csv_mapping({"setup.txt": {"author": f"Shared Author {run}"}})
    answer = await http.post(f"{INGEST}/batch", params={"collection": collection}, files=[*files, mapping])
    assert answer.status_code == 202, answer.text
    batch_id = answer.json()["batch_id"]
    final, _ = await wait_until_finished(http, batch_id)
    assert final["status"] == "completed", final
    return batch_id


async def test_neither_tenant_reaches_the_others_batches_and_the_graph_keeps_them_apart(
        settings, two_tenant_system):
    run, collection = uuid4().hex[:8], f"kb-{uuid4().hex[:8]}"
    async with (as_tenant(two_tenant_system, "acme-1") as acme, as_tenant(two_tenant_system, "globex-1") as globex,
                as_tenant(two_tenant_system, "ops-1") as ops,
                listen(settings.rabbitmq_url, "batch.completed") as completions):
        acme_batch = await ingest(acme, collection, run)
        globex_batch = await ingest(globex, collection, run)

        never = str(uuid4())
        for theirs, mine in ((acme_batch, globex), (globex_batch, acme)):
            answers = {
                "status": await mine.get(f"{INGEST}/batch/{theirs}/status"),
                "events": await mine.get(f"{INGEST}/batch/{theirs}/events"),
                "cancel": await mine.post(f"{INGEST}/batch/{theirs}/cancel"),
                "retry": await mine.post(f"{INGEST}/batch/{theirs}/retry"),
                "delete": await mine.delete(f"{INGEST}/batch/{theirs}/documents"),
            }
            unknown = await mine.get(f"{INGEST}/batch/{never}/status")
            assert {action: answer.status_code for action, answer in answers.items()} == dict.fromkeys(answers, 404)
            assert answers["status"].json() == unknown.json() | {"error": {
                **unknown.json()["error"], "message": unknown.json()["error"]["message"].replace(never, theirs)}}

        listed = {name: {b["batch_id"] for b in (await http.get(f"{INGEST}/batches?limit=100")).json()["batches"]}
                  for name, http in (("acme", acme), ("globex", globex), ("ops", ops))}
        assert acme_batch in listed["acme"] and globex_batch not in listed["acme"]
        assert globex_batch in listed["globex"] and acme_batch not in listed["globex"]
        assert {acme_batch, globex_batch} <= listed["ops"]

        acme_status = (await acme.get(f"{INGEST}/batch/{acme_batch}/status")).json()
        assert acme_status["tenant"] == "acme"
        assert [(entry["action"], entry["key_id"]) for entry in acme_status["audit"]] == [("created", "acme-1")]
        announced = await completions.of_batch_once(acme_batch)
        assert announced[0].tenant == "acme"

        # The same file under the same source: a source, a document, chunks and an author for each tenant.
        current = "(:Source {collection: $c})-[:CURRENT]->"
        for label, where in (("Source", "n.collection = $c"), ("Author", "n.name = $author"),
                             ("Document", f"EXISTS {{ {current}(n) }}"),
                             ("Chunk", f"EXISTS {{ {current}(:Document)<-[:PART_OF]-(n) }}")):
            query = f"MATCH (n:{label}) WHERE {where} RETURN count(DISTINCT n.tenant) * 1000 + count(n) AS n"
            assert await graph_count(settings, query, c=collection, author=f"Shared Author {run}") == 2002, label

        # Deleting "its" collection removes only the tenant's own; the other's sync still finds its file.
        deletion = await finished_deletion(globex, await globex.delete(f"{COLLECTIONS}/{collection}"))
        assert (deletion["status"], deletion["removed_count"], deletion["tenant"]) == ("completed", 1, "globex")
        assert (await acme.get(f"/api/v1/deletions/{deletion['batch_id']}")).status_code == 404
        sync = await acme.post(f"{COLLECTIONS}/{collection}/sync", json={"sources": []})
        assert sync.json()["absent"] == ["handbook/setup.txt"]
        assert await graph_count(settings, "MATCH (s:Source {collection: $c}) RETURN count(s) AS n",
                                 c=collection) == 1


async def test_a_key_taken_out_of_the_tenants_file_stops_working_and_its_twin_keeps_working(
        two_tenant_system, tenants_file):
    async with as_tenant(two_tenant_system, "acme-1") as old, as_tenant(two_tenant_system, "acme-2") as twin:
        assert (await old.get(f"{INGEST}/batches")).status_code == 200
        write(tenants_file, tenants(acme_keys=("acme-2",)))
        try:
            refused = await eventually(lambda: old.get(f"{INGEST}/batches"), lambda r: r.status_code == 401)
            assert refused.json()["error"]["code"] == "UNAUTHORIZED"
            assert (await twin.get(f"{INGEST}/batches")).status_code == 200
        finally:
            write(tenants_file, tenants())
            # The next tests use the key again: the file is read at most once a second.
            await eventually(lambda: old.get(f"{INGEST}/batches"), lambda r: r.status_code == 200)


async def test_a_tenant_over_its_rate_is_refused_with_when_to_retry_while_another_is_not(two_tenant_system):
    async with as_tenant(two_tenant_system, "limited-1") as limited, as_tenant(two_tenant_system, "acme-2") as acme:
        answers = [await limited.get(f"{INGEST}/batches") for _ in range(6)]
        assert (await acme.get(f"{INGEST}/batches")).status_code == 200
    refused = [answer for answer in answers if answer.status_code == 429]
    assert answers[0].status_code == 200 and refused, [answer.status_code for answer in answers]
    assert {(answer.json()["error"]["code"], int(answer.headers["Retry-After"]) >= 1) for answer in refused} == {
        ("RATE_LIMITED", True)}


async def flood(http, run: str) -> list[str]:
    async def one(batch: int) -> str:
        names = [f"flood-{batch}-{n}.txt" for n in range(FLOOD_SIZE)]
        files = [("files", (name, f"Flood {run} {name}.".encode(), "text/plain")) for name in names]
        mapping = csv_mapping({name: {"author": "Flood"} for name in names})
        answer = await http.post(f"{INGEST}/batch", files=[*files, mapping])
        assert answer.status_code == 202, answer.text
        return answer.json()["batch_id"]

    return list(await asyncio.gather(*(one(batch) for batch in range(FLOOD_BATCHES))))


async def test_one_tenants_flood_does_not_hold_up_another_tenants_small_batch(two_tenant_system):
    """acme and globex are on different lanes (docintake.contracts.topology.lane_of). Bound: globex's batch
    finishes while at least half of acme's flood is still pending, i.e. it waited for less than half of it
    (queued behind it, it would wait for all)."""
    run = uuid4().hex[:8]
    async with as_tenant(two_tenant_system, "acme-1") as acme, as_tenant(two_tenant_system, "globex-1") as globex:
        flooded = await flood(acme, run)
        started = time.monotonic()
        names = [f"small-{n}.txt" for n in range(SMALL)]
        files = [("files", (name, f"Small {run} {name}.".encode(), "text/plain")) for name in names]
        answer = await globex.post(f"{INGEST}/batch", files=[*files, csv_mapping(
            {name: {"author": "Small"} for name in names})])
        final, _ = await wait_until_finished(globex, answer.json()["batch_id"])
        waited = time.monotonic() - started
        pending = sum([(await acme.get(f"{INGEST}/batch/{batch_id}/status")).json()["pending_count"]
                       for batch_id in flooded])
        for batch_id in flooded:
            await wait_until_finished(acme, batch_id, timeout=600)
        flood_took = time.monotonic() - started
    print(f"\nsmall batch of {SMALL} finished in {waited:.1f} s with {pending} of the flood's "
          f"{FLOOD_BATCHES * FLOOD_SIZE} documents pending; the flood took {flood_took:.1f} s")
    assert final["status"] == "completed"
    assert pending >= FLOOD_BATCHES * FLOOD_SIZE // 2, (waited, pending, flood_took)
