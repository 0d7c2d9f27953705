"""The gateway against real RabbitMQ and MinIO: what an accepted batch leaves, and what a rejected one does not."""

import hashlib
import json
from urllib.parse import unquote
from uuid import UUID, uuid4

import pytest

from deploy.native import isolated
from docintake.gateway.bootstrap import create_app
from docintake.gateway.settings import GatewaySettings
from docintake.platform.storage import ObjectStore
from docintake.platform.tenants import hashed
from tests.support.broker import listen
from tests.support.http import client, serving

INGEST = "/api/v1/documents/ingest/batch"


def files(count: int, size: int = 100) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("files", (f"doc-{i}.txt", (f"document {i} ".encode() * size)[: size + i], "text/plain"))
        for i in range(count)
    ]


@pytest.fixture
async def gateway(settings):
    async with serving(create_app(GatewaySettings(**settings.model_dump()))) as url:
        yield url


@pytest.fixture
def store(settings) -> ObjectStore:
    return ObjectStore(settings)


def events_of(batch_id: str):
    return lambda events: [e for e in events if e["batch_id"] == batch_id]


async def accepted_events(settings, gateway, upload, data=None):
    async with listen(settings.rabbitmq_url) as listener, client(gateway) as http:
        response = await http.post(INGEST, files=upload, data=data)
        assert response.status_code == 202, response.text
        body = response.json()
        mine = events_of(body["batch_id"])
        await listener.collect(lambda events: len(mine(events)) >= 1 + body["total_documents"])
        await listener.quiet_for(0.5)
        return body, mine(listener.events)


async def assert_batch_events(store, body, events, expected_metadata):
    created = [e for e in events if e["event_type"] == "docintake.batch.created"]
    queued = [e for e in events if e["event_type"] == "docintake.document.queued"]
    assert len(created) == 1 and len(queued) == body["total_documents"] == len(events) - 1
    documents = {d["filename"]: d for d in created[0]["data"]["documents"]}
    assert {e["document_id"] for e in queued} == {d["document_id"] for d in documents.values()}
    for name, metadata in expected_metadata.items():
        assert documents[name]["metadata"] == metadata
    for document in documents.values():
        assert document["key"] == f"batches/{body['batch_id']}/{document['document_id']}"
        content = await store.get_bytes(document["key"])
        assert hashlib.sha256(content).hexdigest() == document["sha256"]
        assert len(content) == document["size"]
        info = await store.stat(document["key"])
        assert unquote(info["x-amz-meta-filename"]) == document["filename"]
    return documents


async def test_a_ten_file_batch_with_a_csv_mapping(settings, gateway, store):
    mapping = "filename,author,department,tags,date_created\r\n" + "\r\n".join(
        f'doc-{i}.txt,Author {i},R&D,"alpha, beta",2024-01-0{i}' for i in range(1, 10)
    ) + "\r\nmissing.pdf,Nobody,,,\r\n"
    upload = files(10) + [("metadata_mapping", ("mapping.csv", mapping.encode("utf-8-sig"), "text/csv"))]
    body, events = await accepted_events(settings, gateway, upload)
    assert body["status"] == "in_progress" and UUID(body["batch_id"])
    assert body["warnings"] == ["Metadata mapping names 'missing.pdf', which is not in this batch; ignored"]
    documents = await assert_batch_events(store, body, events, {
        "doc-3.txt": {"author": "Author 3", "department": "R&D", "tags": "alpha, beta", "date_created": "2024-01-03"},
        "doc-0.txt": {},
    })
    assert len(documents) == 10


async def test_a_ten_file_batch_with_a_json_mapping(settings, gateway, store):
    mapping = {f"doc-{i}.txt": {"author": f"A{i}", "tags": ["x", "y"], "category": "manual"} for i in range(10)}
    upload = files(10) + [("metadata_mapping", ("m.json", json.dumps(mapping).encode(), "application/json"))]
    body, events = await accepted_events(settings, gateway, upload)
    await assert_batch_events(store, body, events, {"doc-7.txt": mapping["doc-7.txt"]})
    assert body["warnings"] == []


def raw_multipart(parts: list[tuple[bytes, bytes]], boundary: bytes = b"b0und") -> tuple[bytes, dict]:
    body = b"".join(
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="files"; filename="' + name + b'"\r\n\r\n'
        + data + b"\r\n"
        for name, data in parts
    ) + b"--" + boundary + b"--\r\n"
    return body, {"content-type": "multipart/form-data; boundary=" + boundary.decode()}


async def test_per_file_trouble_is_accepted_as_documents(settings, gateway, store):
    body, headers = raw_multipart([
        (b"empty.txt", b""),
        (b"../../etc/pass\x07wd", b"root"),
        (b"C:\\Users\\ada\\same.txt", b"one"),
        (b"same.txt", b"two"),
        (b"fallback.txt\"; filename*=\"UTF-8''r%C3%A9sum%C3%A9.txt", b"rfc 2231"),
    ])
    async with listen(settings.rabbitmq_url, "batch.created") as listener, client(gateway) as http:
        response = await http.post(INGEST, content=body, headers=headers)
        assert response.status_code == 202, response.text
        assert response.json()["total_documents"] == 5
        created = await listener.collect(lambda events: events)
    names = sorted(d["filename"] for d in created[0]["data"]["documents"])
    assert names == ["empty.txt", "passwd", "résumé.txt", "same.txt", "same.txt"]


async def rejected(settings, gateway, store, request, status, code) -> dict:
    before = set(await store.keys("batches/"))
    async with listen(settings.rabbitmq_url) as listener:
        response = await request()
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        assert await listener.quiet_for(1.0) == []
    assert set(await store.keys("batches/")) <= before
    return response.json()["error"]


async def test_no_files(settings, gateway, store):
    async with client(gateway) as http:
        await rejected(settings, gateway, store, lambda: http.post(INGEST, files=[("other", ("x", b"y"))]),
                       400, "NO_FILES")


async def test_more_than_one_hundred_files(settings, gateway, store):
    async with client(gateway) as http:
        error = await rejected(settings, gateway, store, lambda: http.post(INGEST, files=files(150, 10)),
                               400, "BATCH_TOO_LARGE")
    assert error["message"] == "Batch exceeds maximum size of 100 files. Uploaded: 150 files"


async def test_a_file_over_the_limit(settings, store):
    small = GatewaySettings(**{**settings.model_dump(), "max_file_bytes": 1000})
    async with serving(create_app(small)) as gateway, client(gateway) as http:
        upload = files(3) + [("files", ("big.bin", b"x" * 5000, "application/octet-stream"))]
        await rejected(settings, gateway, store, lambda: http.post(INGEST, files=upload), 413, "FILE_TOO_LARGE")


@pytest.mark.parametrize(
    ("mapping", "named"),
    [
        (b"filename,author\na.txt,Ada,extra\n", "Line 2"),
        (b'{"a.txt": {"author": "Ada"},}', "line 1"),
        (b"author,department\nAda,R&D\n", "'filename' column"),
        (b'{"a.txt": "Ada"}', "key 'a.txt'"),
    ],
)
async def test_a_mapping_that_cannot_be_parsed(settings, gateway, store, mapping, named):
    async with client(gateway) as http:
        upload = files(2) + [("metadata_mapping", ("m", mapping, "application/octet-stream"))]
        error = await rejected(settings, gateway, store, lambda: http.post(INGEST, files=upload),
                               400, "INVALID_METADATA_MAPPING")
    assert named in error["message"]


@pytest.mark.parametrize("key", [None, "wrong-key"])
async def test_a_missing_or_wrong_api_key(settings, gateway, store, key):
    async with client(gateway, api_key=key or "") as http:
        if key is None:
            http.headers.pop("X-API-Key")
        await rejected(settings, gateway, store, lambda: http.post(INGEST, files=files(2)), 401, "UNAUTHORIZED")


@pytest.mark.parametrize("key", [None, "wrong-key"])
async def test_the_status_routes_need_the_clients_own_key(gateway, key):
    async with client(gateway, api_key=key or "") as http:
        if key is None:
            http.headers.pop("X-API-Key")
        response = await http.get(f"{INGEST}/{uuid4()}/status")
    assert response.status_code == 401 and response.json()["error"]["code"] == "UNAUTHORIZED"


async def test_filenames_in_any_script_are_kept(settings, gateway, store):
    names = ["résumé 2024.txt", "報告書.md", "Ελληνικά.csv"]
    upload = [("files", (name, f"{name} content".encode(), "text/plain")) for name in names]
    body, events = await accepted_events(settings, gateway, upload)
    documents = await assert_batch_events(store, body, events, {})
    assert sorted(documents) == sorted(names)


async def test_a_body_that_is_not_multipart(settings, gateway, store):
    async with client(gateway) as http:
        await rejected(settings, gateway, store, lambda: http.post(INGEST, json={"files": []}),
                       400, "INVALID_MULTIPART")


async def test_a_broken_multipart_body(settings, gateway, store):
    body = b"--xyz\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\nhello wor"
    async with client(gateway) as http:
        def request():
            return http.post(INGEST, content=body, headers={"content-type": "multipart/form-data; boundary=xyz"})

        await rejected(settings, gateway, store, request, 400, "INVALID_MULTIPART")


async def test_a_retried_post_with_the_same_idempotency_key_gets_the_first_answer(settings, gateway, store):
    async with listen(settings.rabbitmq_url, "batch.created") as listener, client(gateway) as http:
        headers = {"Idempotency-Key": f"upload-{id(listener)}-{hash(gateway)}"}
        first = await http.post(INGEST, files=files(3), headers=headers)
        second = await http.post(INGEST, files=files(3), headers=headers)
        assert first.status_code == second.status_code == 202
        assert second.json() == first.json()
        assert second.headers.get("Idempotent-Replayed") == "true"
        created = await listener.quiet_for(1.5)
    assert [e["batch_id"] for e in created] == [first.json()["batch_id"]]


async def test_broker_down_gives_503_and_leaves_no_objects(settings, gateway, store):
    before = set(await store.keys("batches/"))
    isolated.servers("stop", "rabbitmq")
    try:
        async with client(gateway) as http:
            response = await http.post(INGEST, files=files(5))
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert set(await store.keys("batches/")) <= before
    finally:
        isolated.servers("start", "rabbitmq")


@pytest.fixture
async def gateway_of_tenants(settings, tmp_path):
    """A gateway whose tenant `hooked` has a webhook secret and `plain` none; loopback allow-listed."""
    tenants = tmp_path / "tenants.json"
    tenants.write_text(json.dumps({"tenants": {
        "hooked": {"keys": {"h-1": hashed("hooked-key")}, "webhook_secret": "whsec"},
        "plain": {"keys": {"p-1": hashed("plain-key")}},
    }}))
    configured = GatewaySettings(**{**settings.model_dump(), "tenants_file": str(tenants),
                                    "webhook_allowed_hosts": "127.0.0.1"})
    async with serving(create_app(configured)) as url:
        yield url


async def test_a_batchs_callback_url_is_announced_with_its_batch(settings, gateway_of_tenants):
    async with listen(settings.rabbitmq_url, "batch.created") as listener, \
            client(gateway_of_tenants, api_key="hooked-key") as http:
        response = await http.post(INGEST, files=files(1), params={
            "callback_url": "http://127.0.0.1:9/hook", "callback_documents": "true"})
        assert response.status_code == 202, response.text
        batch_id = response.json()["batch_id"]
        [created] = await listener.collect(events_of(batch_id))
    assert (created["tenant"], created["data"]["callback_url"], created["data"]["callback_documents"]) == (
        "hooked", "http://127.0.0.1:9/hook", True)


@pytest.mark.parametrize(("key", "url", "says"), [
    ("hooked-key", "http://10.1.2.3/hook", "not public and not allow-listed"),
    ("hooked-key", "http://169.254.169.254/latest/meta-data", "not public and not allow-listed"),
    ("hooked-key", "ftp://127.0.0.1/hook", "http or https"),
    ("plain-key", "http://127.0.0.1:9/hook", "no webhook secret"),
])
async def test_a_callback_url_the_services_may_not_call_is_refused_and_leaves_nothing(
        settings, gateway_of_tenants, store, key, url, says):
    async with client(gateway_of_tenants, api_key=key) as http:
        error = await rejected(settings, gateway_of_tenants, store,
                               lambda: http.post(INGEST, files=files(2), params={"callback_url": url}),
                               400, "INVALID_CALLBACK_URL")
    assert says in error["message"]
