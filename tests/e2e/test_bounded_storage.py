"""Storage stays bounded: a finished batch's raw uploads go once its retention passed; many small
batches ingested and then deleted leave, once the status service's retention has passed, no raw
object, no source, no progress record and no event id of theirs."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from docintake.gateway.adapters.status_service import StatusService
from docintake.gateway.domain.batch import announcement_key, batch_prefix
from docintake.gateway.service_layer.ports import FORGOTTEN
from docintake.gateway.service_layer.upload_retention import expire_finished_uploads
from docintake.platform.storage import ObjectStore
from docintake.status.adapters.neo4j_progress_repository import Neo4jProgressRepository
from tests.support.batches import COLLECTIONS, INGEST, csv_mapping, finished_deletion, status, wait_until_finished
from tests.support.graph import graph_count

BATCHES, DOCUMENTS = 10, 5


async def test_a_finished_batchs_raw_uploads_go_once_its_retention_passed_and_its_record_stays(
        api, running_system, settings):
    files = [("files", (f"kept-{i}.txt", f"Kept for a while {uuid4()}.".encode(), "text/plain")) for i in range(2)]
    mapping = csv_mapping({f"kept-{i}.txt": {"author": "Retention"} for i in range(2)})
    answer = await api.post(f"{INGEST}/batch", files=[*files, mapping])
    batch_id = answer.json()["batch_id"]
    final, _ = await wait_until_finished(api, batch_id)
    assert final["status"] == "completed", final
    store = ObjectStore(settings)
    assert len(await store.keys(batch_prefix(batch_id))) == 2

    status_service = StatusService(f"http://127.0.0.1:{running_system.status_port}", "dev-key")
    try:
        assert await status_service.finished_at(uuid4()) == FORGOTTEN
        later = datetime.now(UTC) + timedelta(seconds=1)
        assert batch_id in {str(expired) for expired in
                            await expire_finished_uploads(store, status_service, timedelta(0), later)}
    finally:
        await status_service.aclose()
    assert await store.keys(batch_prefix(batch_id)) == []
    assert await store.get_bytes(announcement_key(batch_id)) is None
    assert (await status(api, batch_id))["status"] == "completed"


async def test_many_batches_ingested_and_deleted_leave_nothing_once_their_retention_passed(api, settings):
    run = uuid4().hex[:10]
    collection = f"soak-{run}"
    batch_ids = []
    for batch in range(BATCHES):
        names = [f"{batch}-{document}.txt" for document in range(DOCUMENTS)]
        files = [("files", (f"soak/{name}", f"Soak {run}: {name}.".encode(), "text/plain")) for name in names]
        mapping = csv_mapping({name: {"author": f"Soak {run}"} for name in names})
        answer = await api.post(f"{INGEST}/batch", params={"collection": collection}, files=[*files, mapping])
        assert answer.status_code == 202, answer.text
        batch_ids.append(answer.json()["batch_id"])
    for batch_id in batch_ids:
        final, _ = await wait_until_finished(api, batch_id)
        assert final["status"] == "completed", final
    deleting = await api.delete(f"{COLLECTIONS}/{collection}")
    assert deleting.json()["total_sources"] == BATCHES * DOCUMENTS, deleting.text
    deletion = await finished_deletion(api, deleting)
    assert (deletion["status"], deletion["removed_count"]) == ("completed", BATCHES * DOCUMENTS), deletion
    records = [*batch_ids, deleting.json()["deletion_id"]]

    store = ObjectStore(settings)
    assert [key for batch_id in batch_ids for key in await store.keys(f"batches/{batch_id}/")] == []
    assert await graph_count(settings, "MATCH (s:Source {collection: $c}) RETURN count(s) AS n", c=collection) == 0
    assert await graph_count(settings, "MATCH (e:IngestEvent) WHERE e.batch_id IN $ids RETURN count(e) AS n",
                       ids=records) > 0

    # What the status service's sweep does once the retentions have passed (here: at once).
    repo = Neo4jProgressRepository.connect(settings)
    try:
        later = datetime.now(UTC) + timedelta(seconds=1)
        await repo.prune_applied_events(later)
        await repo.forget_finished_batches(later)
    finally:
        await repo.close()
    assert await graph_count(settings, "MATCH (e:IngestEvent) WHERE e.batch_id IN $ids RETURN count(e) AS n",
                       ids=records) == 0
    assert await graph_count(settings, "MATCH (b:IngestBatch) WHERE b.batch_id IN $ids RETURN count(b) AS n",
                       ids=records) == 0
    assert await graph_count(settings, "MATCH (i:IngestItem) WHERE i.batch_id IN $ids RETURN count(i) AS n",
                       ids=records) == 0
