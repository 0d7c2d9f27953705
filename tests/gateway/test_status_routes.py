"""The gateway's status routes while the status service has not recorded a batch the gateway accepted."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from docintake.gateway.bootstrap import create_app
from docintake.gateway.domain.batch import batch_prefix
from docintake.gateway.service_layer.upload_retention import reap_unannounced_uploads
from docintake.gateway.settings import GatewaySettings
from docintake.platform.storage import ObjectStore
from tests.support.http import client, serving

INGEST = "/api/v1/documents/ingest/batch"


def a_status_service_behind_on_its_events() -> FastAPI:
    """Knows no batch yet, as a status service working through a backlog of events."""
    behind = FastAPI()

    @behind.api_route("/{path:path}", methods=["GET", "POST"])
    async def unknown(path: str) -> JSONResponse:
        return JSONResponse({"error": {"code": "BATCH_NOT_FOUND", "message": "not known"}}, status_code=404)

    return behind


async def test_an_accepted_batch_is_in_progress_before_its_progress_is_recorded(settings):
    async with serving(a_status_service_behind_on_its_events()) as status_url:
        gateway_settings = GatewaySettings(**{**settings.model_dump(), "status_url": status_url})
        async with serving(create_app(gateway_settings)) as gateway, client(gateway) as http:
            upload = [("files", (f"note-{i}.txt", b"note", "text/plain")) for i in range(3)]
            batch_id = (await http.post(INGEST, files=upload)).json()["batch_id"]

            status = await http.get(f"{INGEST}/{batch_id}/status")
            cancel = await http.post(f"{INGEST}/{batch_id}/cancel")
            unknown = await http.get(f"{INGEST}/00000000-0000-4000-8000-000000000000/status")

    assert status.status_code == 200
    assert {key: status.json()[key] for key in ("status", "total_documents", "processed_count", "pending_count")} == {
        "status": "in_progress", "total_documents": 3, "processed_count": 0, "pending_count": 3}
    assert cancel.status_code == 503 and cancel.json()["error"]["code"] == "BATCH_NOT_READY"
    assert cancel.headers["Retry-After"] == "2"
    assert unknown.status_code == 404


async def test_an_upload_that_never_ended_reads_unknown_and_its_objects_are_reaped(settings):
    store = ObjectStore(settings)
    await store.ensure_bucket()
    batch_id = uuid4()
    left = [f"{batch_prefix(batch_id)}{uuid4()}" for _ in range(3)]  # as a gateway killed mid-upload leaves them
    for key in left:
        await store.put_bytes(key, b"half an upload", "text/plain")
    async with serving(a_status_service_behind_on_its_events()) as status_url:
        gateway_settings = GatewaySettings(**{**settings.model_dump(), "status_url": status_url})
        async with serving(create_app(gateway_settings)) as gateway, client(gateway) as http:
            status = await http.get(f"{INGEST}/{batch_id}/status")
            cancel = await http.post(f"{INGEST}/{batch_id}/cancel")
    assert (status.status_code, cancel.status_code) == (404, 404)
    assert status.json()["error"]["code"] == "BATCH_NOT_FOUND"

    assert batch_id in await reap_unannounced_uploads(store, timedelta(0), datetime.now(UTC))
    assert await store.keys(batch_prefix(batch_id)) == []
