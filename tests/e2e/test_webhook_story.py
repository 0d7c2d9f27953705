"""Webhooks on the whole running system: an upload naming its own callback (with each document's outcome)
is told, signed, of both documents and the batch's completion, and the tenant's standing webhook of the
completion; the batch's status, read through the gateway, shows every delivery delivered."""

import pytest

from tests.e2e.conftest import System
from tests.support.batches import INGEST, csv_mapping
from tests.support.http import client
from tests.support.status_service import status_when
from tests.support.webhooks import FAST_RETRIES, Receiver, assert_signed, tenants_file


@pytest.fixture(scope="module")
async def receiver():
    async with Receiver().serving() as found:
        yield found


@pytest.fixture(scope="module")
def hooked_system(settings, tmp_path_factory, receiver):
    directory = tmp_path_factory.mktemp("webhook-system")
    env = {f"DOCINTAKE_{name.upper()}": str(value) for name, value in FAST_RETRIES.items()}
    running = System(settings, directory, env={
        **env, "DOCINTAKE_TENANTS_FILE": str(tenants_file(directory / "tenants.json", receiver))}).start()
    yield running
    running.stop()


async def test_an_uploads_callback_and_the_tenants_webhook_are_told_signed(hooked_system, receiver):
    documents = {"a.txt": b"alpha " * 50, "b.txt": b"beta " * 50}
    upload = [("files", (name, content, "text/plain")) for name, content in documents.items()]
    mapping = csv_mapping({name: {"author": "Ada"} for name in documents})
    async with client(hooked_system.base_url, "acme-key") as api:
        response = await api.post(f"{INGEST}/batch", files=[*upload, mapping], params={
            "callback_url": f"{receiver.base_url}/mine", "callback_documents": "true"})
        assert response.status_code == 202, response.text
        batch_id = response.json()["batch_id"]
        done = await status_when(api, batch_id, lambda s: len(s.webhooks) == 4 and all(
            w.state == "delivered" for w in s.webhooks), timeout=120)

    assert done.status == "completed" and done.tenant == "acme"
    to_mine = receiver.of_batch(batch_id, "mine")
    assert sorted(got.event["event_type"] for got in to_mine) == [
        "docintake.batch.completed", "docintake.document.ingested", "docintake.document.ingested"]
    assert [got.event["event_type"] for got in receiver.of_batch(batch_id, "acme")] == ["docintake.batch.completed"]
    for got in receiver.of_batch(batch_id):
        assert_signed(got)
