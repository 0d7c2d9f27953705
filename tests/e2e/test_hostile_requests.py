"""Hostile and malformed requests against the running system: each gets its own clean answer, and
afterwards nothing is stored or published, every batch record still reads, and the gateway still
answers others within a second."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import uuid4

import aio_pika
import httpx
import psutil
import pytest

from docintake.contracts.topology import EXCHANGE_NAME
from docintake.platform.storage import ObjectStore
from tests.e2e.conftest import System
from tests.support.batches import INGEST, TERMINAL, upload

pytestmark = pytest.mark.slow

BATCH = f"{INGEST}/batch"
BOUNDARY = "hostile-boundary"
MAX_FILE_BYTES = 256 * 1024
BODY_IDLE_SECONDS = 5
# More keys than one, so that many streams can be open without hitting the per-key share.
API_KEYS = ["dev-key", *(f"stream-key-{n}" for n in range(9))]


@pytest.fixture(scope="module")
def hostile_system(settings, tmp_path_factory):
    running = System(settings, tmp_path_factory.mktemp("hostile"))
    running.env.update(DOCINTAKE_MAX_FILE_BYTES=str(MAX_FILE_BYTES), DOCINTAKE_MAX_FILES="5",
                       DOCINTAKE_BODY_IDLE_TIMEOUT_SECONDS=str(BODY_IDLE_SECONDS),
                       DOCINTAKE_API_KEYS=",".join(API_KEYS))
    for process in running.processes:
        process.env.update(running.env)
    running.start()
    yield running
    running.stop()


@dataclass
class Answer:
    status: int
    body: dict

    @property
    def code(self) -> str | None:
        return (self.body.get("error") or {}).get("code")


async def raw_request(port: int, data: bytes, *, read_timeout: float = 30) -> Answer:
    """Send bytes as they are, read the answer; a connection the server closed without one reads as 0."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = b""
    try:
        writer.write(data)
        await writer.drain()
        async with asyncio.timeout(read_timeout):
            while chunk := await reader.read(65536):  # the server closes the connection after its answer
                answer += chunk
    except (ConnectionError, TimeoutError):
        pass  # an answer that came before the connection broke still counts
    finally:
        writer.close()
    if not answer.startswith(b"HTTP/1.1 "):
        return Answer(0, {})
    status = int(answer.split(b" ", 2)[1])
    body = answer.partition(b"\r\n\r\n")[2]
    try:
        return Answer(status, json.loads(body))
    except ValueError:
        return Answer(status, {})


def multipart(*parts: tuple[str, str | None, bytes, str]) -> bytes:
    out = b""
    for name, filename, content, content_type in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += (f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n"
                .encode() + content + b"\r\n")
    return out + f"--{BOUNDARY}--\r\n".encode()


def post(body: bytes, *, content_type: str = f"multipart/form-data; boundary={BOUNDARY}",
         content_length: int | None = None, extra: bytes = b"", key: bytes = b"dev-key") -> bytes:
    length = len(body) if content_length is None else content_length
    return (f"POST {BATCH} HTTP/1.1\r\nHost: gateway\r\nX-API-Key: ".encode() + key +
            f"\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n".encode() +
            extra + b"\r\n" + body)


def nested_mapping(depth: int) -> bytes:
    return ('{"a.txt": {"author": "Ada", "extra": ' + "[" * depth + "1" + "]" * depth + "}}").encode()


def with_mapping(mapping: bytes, content_type: str = "application/json") -> bytes:
    return multipart(("files", "a.txt", b"plain text", "text/plain"),
                     ("metadata_mapping", "metadata.json", mapping, content_type))


Send = Callable[["Client"], Awaitable[Answer]]


class Client:
    def __init__(self, system: System, http: httpx.AsyncClient):
        self.system, self.http = system, http

    async def raw(self, data: bytes, **kwargs) -> Answer:
        return await raw_request(self.system.gateway_port, data, **kwargs)

    async def call(self, method: str, path: str, **kwargs) -> Answer:
        response = await self.http.request(method, path, **kwargs)
        try:
            return Answer(response.status_code, response.json())
        except ValueError:
            return Answer(response.status_code, {})


def raw(data: bytes, **kwargs) -> Send:
    return lambda client: client.raw(data, **kwargs)


def call(method: str, path: str, **kwargs) -> Send:
    return lambda client: client.call(method, path, **kwargs)


CASES: list[tuple[str, Send, int, str | None]] = [
    *[(f"mapping nested {depth} deep", raw(post(with_mapping(nested_mapping(depth)))), 400, "INVALID_METADATA_MAPPING")
      for depth in (100, 200, 254, 255, 256, 500, 1_000, 5_000, 10_000)],
    ("mapping that is not JSON", raw(post(with_mapping(b'{"a.txt": {'))), 400, "INVALID_METADATA_MAPPING"),
    ("mapping that is a list", raw(post(with_mapping(b'[1, 2]'))), 400, "INVALID_METADATA_MAPPING"),
    ("mapping not UTF-8", raw(post(with_mapping(b"\xff\xfe\x00filename", "text/csv"))), 400,
     "INVALID_METADATA_MAPPING"),
    ("CSV mapping without filename column", raw(post(with_mapping(b"author\nAda\n", "text/csv"))), 400,
     "INVALID_METADATA_MAPPING"),
    ("mapping of 6 MiB", raw(post(with_mapping(b'{"a.txt": {"x": "' + b"y" * (6 << 20) + b'"}}'))), 400, None),
    ("no files", raw(post(multipart(("other", None, b"x", "text/plain")))), 400, "NO_FILES"),
    ("more files than allowed", raw(post(multipart(*[("files", f"f{i}.txt", b"x", "text/plain")
                                                      for i in range(6)]))), 400, "BATCH_TOO_LARGE"),
    ("a file over the size limit", raw(post(multipart(("files", "big.txt", b"x" * (MAX_FILE_BYTES + 1),
                                                      "text/plain")))), 413, "FILE_TOO_LARGE"),
    ("not multipart", raw(post(b"{}", content_type="application/json")), 400, "INVALID_MULTIPART"),
    ("multipart without boundary", raw(post(b"x", content_type="multipart/form-data")), 400, "INVALID_MULTIPART"),
    ("body cut before its closing boundary",
     raw(post(multipart(("files", "a.txt", b"text", "text/plain"))[:-20])), 400, "INVALID_MULTIPART"),
    ("garbage after a boundary", raw(post(b"--" + BOUNDARY.encode() + b"\r\n\x00\x01\x02garbage")), 400,
     "INVALID_MULTIPART"),
    ("Content-Length larger than a body cut short, then the client stops",
     raw(post(multipart(("files", "a.txt", b"text", "text/plain"))[:-20], content_length=10_000)), 408,
     "REQUEST_TIMEOUT"),
    ("a 200 KiB header line", raw(post(b"", extra=b"X-Flood: " + b"a" * 200_000 + b"\r\n")), 431,
     "REQUEST_HEADERS_TOO_LARGE"),
    ("ten thousand headers", raw(post(b"", extra=b"".join(b"X-H%d: v\r\n" % i for i in range(10_000)))), 431,
     "REQUEST_HEADERS_TOO_LARGE"),
    ("a 100 KiB request line", raw(b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: g\r\n\r\n"), 431,
     "REQUEST_HEADERS_TOO_LARGE"),
    ("headers that never end", raw(b"GET /healthz HTTP/1.1\r\nHost: g\r\nX-Slow: a", read_timeout=30), 408,
     "REQUEST_TIMEOUT"),
    ("not HTTP at all", raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64)), 400, None),
    ("a collection outside the safe charset", call("POST", BATCH, params={"collection": "../etc"},
                                                    files=[("files", ("a.txt", b"x"))]), 400, "INVALID_COLLECTION"),
    ("a bad collection field after the files", call("POST", BATCH, files=[
        ("files", ("a.txt", b"x")), ("collection", (None, b"no spaces"))]), 400, "INVALID_COLLECTION"),
    ("two collections named", call("POST", BATCH, params={"collection": "one"}, files=[
        ("collection", (None, b"two")), ("files", ("a.txt", b"x"))]), 400, "INVALID_COLLECTION"),
    ("a source path past 1024 characters", call("POST", BATCH, files=[
        ("files", ("/".join(["d" * 200] * 6) + "/a.txt", b"x"))]), 400, "INVALID_SOURCE_PATH"),
    ("no API key", call("POST", BATCH, headers={"X-API-Key": ""}, files=[("files", ("a.txt", b"x"))]), 401,
     "UNAUTHORIZED"),
    ("a wrong API key", call("GET", f"{INGEST}/batches", headers={"X-API-Key": "nope"}), 401, "UNAUTHORIZED"),
    ("PUT on the upload route", call("PUT", BATCH), 405, "METHOD_NOT_ALLOWED"),
    ("DELETE on a status route", call("DELETE", f"{BATCH}/{uuid4()}/status"), 405, "METHOD_NOT_ALLOWED"),
    ("PATCH on the list", call("PATCH", f"{INGEST}/batches"), 405, "METHOD_NOT_ALLOWED"),
    ("GET on cancel", call("GET", f"{BATCH}/{uuid4()}/cancel"), 405, "METHOD_NOT_ALLOWED"),
    ("a batch id that is no UUID", call("GET", f"{BATCH}/../../etc/passwd/status"), 404, None),
    ("an unknown batch", call("GET", f"{BATCH}/{uuid4()}/status"), 404, "BATCH_NOT_FOUND"),
    ("cancel of an unknown batch", call("POST", f"{BATCH}/{uuid4()}/cancel"), 404, "BATCH_NOT_FOUND"),
    ("a cursor never handed out", call("GET", f"{INGEST}/batches", params={"cursor": "not-a-cursor"}), 400,
     "INVALID_CURSOR"),
    ("a crafted cursor", call("GET", f"{INGEST}/batches", params={"cursor": "eyJ4IjogMX0"}), 400, "INVALID_CURSOR"),
    ("a page size of 0", call("GET", f"{INGEST}/batches", params={"limit": 0}), 422, "INVALID_REQUEST"),
    ("an unknown status filter", call("GET", f"{INGEST}/batches", params={"status": "nope"}), 422,
     "INVALID_REQUEST"),
    ("an Idempotency-Key of 10 KB", call("POST", BATCH, headers={"Idempotency-Key": "k" * 10_000},
                                         files=[("files", ("a.txt", b"x"))]), 422, "INVALID_REQUEST"),
]


class Exchange:
    """Everything published on docintake.events, up to a marker this test publishes last."""

    def __init__(self, url: str):
        self.url = url

    async def __aenter__(self) -> "Exchange":
        self.connection = await aio_pika.connect_robust(self.url)
        self.channel = await self.connection.channel()
        self.exchange = await self.channel.declare_exchange(EXCHANGE_NAME, aio_pika.ExchangeType.TOPIC, durable=True)
        self.queue = await self.channel.declare_queue(exclusive=True)  # lives as long as the connection
        await self.queue.bind(self.exchange, routing_key="#")
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.connection.close()

    async def published_until_now(self, timeout: float = 30) -> list[dict]:
        """What was published before this call (ordering on one queue makes the marker a fence)."""
        marker = str(uuid4())
        await self.exchange.publish(aio_pika.Message(json.dumps({"marker": marker}).encode()),
                                    routing_key=f"test.marker.{marker}")
        seen: list[dict] = []
        async with asyncio.timeout(timeout):
            async with self.queue.iterator() as messages:
                async for message in messages:
                    await message.ack()
                    body = json.loads(message.body)
                    if body.get("marker") == marker:
                        return seen
                    seen.append(body)
        return seen


@pytest.fixture
async def client(hostile_system):
    async with hostile_system.client() as http:
        yield Client(hostile_system, http)


async def answers_others_within_a_second(http: httpx.AsyncClient) -> None:
    started = time.monotonic()
    response = await http.get(f"{INGEST}/batches", params={"limit": 100}, timeout=5)
    assert response.status_code == 200, response.text
    for batch in response.json()["batches"]:
        assert batch["status"]  # every record reads
    health = await http.get("/healthz", timeout=5)
    assert health.status_code == 200
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(("send", "status", "code"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
async def test_a_hostile_request_gets_its_answer_and_leaves_nothing_behind(settings, client, send, status, code):
    store = ObjectStore(settings)
    before = set(await store.keys("batches/"))
    async with Exchange(settings.rabbitmq_url) as exchange:
        await exchange.published_until_now()
        answer = await send(client)
        published = await exchange.published_until_now()
    assert answer.status == status, answer
    if code is not None:
        assert answer.code == code, answer
    if answer.status >= 400 and answer.body:
        assert set(answer.body) == {"error"} and set(answer.body["error"]) == {"code", "message"}
    assert set(await store.keys("batches/")) == before
    assert [event.get("event_type") for event in published] == []
    await answers_others_within_a_second(client.http)


async def test_uploads_stalled_mid_file_hold_no_one_else_up_and_are_cut_off(settings, client):
    stalled_count = 64
    store = ObjectStore(settings)
    before = set(await store.keys("batches/"))
    head = multipart(("files", "stalled.txt", b"x" * 70_000 + b"@" * 70_000, "text/plain"))
    stalled_body = head[: head.index(b"@")]  # the file's first half, then nothing more
    stalled = [asyncio.create_task(client.raw(post(stalled_body, content_length=len(head))))
               for _ in range(stalled_count)]
    await asyncio.sleep(1)  # all of them connected and streaming into storage
    await answers_others_within_a_second(client.http)
    ready = await client.http.get("/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["checks"]["storage"] is True
    answers = await asyncio.gather(*stalled)
    assert {(answer.status, answer.code) for answer in answers} == {(408, "REQUEST_TIMEOUT")}
    assert set(await store.keys("batches/")) == before


async def test_the_same_idempotency_key_from_ten_clients_at_once_makes_one_batch(settings, client):
    key = f"same-{uuid4()}"
    files = [("files", ("once.txt", f"Only once {key}".encode()))]
    async with Exchange(settings.rabbitmq_url) as exchange:
        await exchange.published_until_now()
        answers = await asyncio.gather(*(client.call("POST", BATCH, files=files, headers={"Idempotency-Key": key})
                                         for _ in range(10)))
        published = await exchange.published_until_now()
    accepted = {answer.body["batch_id"] for answer in answers if answer.status == 202}  # the first, or replays of it
    assert len(accepted) == 1
    assert {(answer.status, answer.code) for answer in answers if answer.status != 202} <= {
        (409, "IDEMPOTENCY_KEY_IN_FLIGHT")}
    assert [event["event_type"] for event in published].count("docintake.batch.created") == 1
    again = await client.call("POST", BATCH, files=files, headers={"Idempotency-Key": key})
    assert again.status == 202 and {again.body["batch_id"]} == accepted


async def test_a_filename_of_ten_kilobytes_is_queued_shortened_with_its_extension(settings, client):
    name = "n" * 10_000 + ".txt"
    async with Exchange(settings.rabbitmq_url) as exchange:
        await exchange.published_until_now()
        answer = await client.call("POST", BATCH, files=[("files", (name, b"A file with a very long name."))])
        published = await exchange.published_until_now()
    assert answer.status == 202, answer
    [queued] = [event for event in published if event["event_type"] == "docintake.document.queued"]
    assert queued["data"]["document"]["filename"] == "n" * 251 + ".txt"


async def stream_lines(http: httpx.AsyncClient, batch_id: str, key: str, opened: asyncio.Event,
                       close: asyncio.Event) -> int:
    """Hold a live progress stream open until `close`; its status code."""
    async with http.stream("GET", f"{BATCH}/{batch_id}/events", headers={"X-API-Key": key},
                           timeout=httpx.Timeout(30, read=None)) as response:
        opened.set()
        if response.status_code == 200:
            await close.wait()
        return response.status_code


@pytest.fixture
async def unfinished_batch(hostile_system, client):
    """A batch that stays in progress: no ingestor runs while the test does."""
    ingestor = hostile_system.process("ingestor-1")
    ingestor.stop()
    try:
        accepted = await upload(client.http, [("waiting.txt", f"Waiting {uuid4()}".encode())])
        yield accepted["batch_id"]
    finally:
        ingestor.start()


async def test_150_live_streams_leave_status_and_list_answering_for_everyone(client, unfinished_batch):
    close = asyncio.Event()
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=client.system.base_url, limits=limits) as streams:
        opened = [asyncio.Event() for _ in range(150)]
        tasks = [asyncio.create_task(stream_lines(streams, unfinished_batch, API_KEYS[n % len(API_KEYS)],
                                                  opened[n], close)) for n in range(150)]
        async with asyncio.timeout(60):
            for event in opened:
                await event.wait()
        await answers_others_within_a_second(client.http)
        status = await client.call("GET", f"{BATCH}/{unfinished_batch}/status")
        assert status.status == 200 and status.body["status"] not in TERMINAL
        close.set()
        assert set(await asyncio.gather(*tasks)) == {200}


async def test_one_key_gets_its_share_of_live_streams_and_then_429(client, unfinished_batch):
    close = asyncio.Event()
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=client.system.base_url, limits=limits) as streams:
        opened = [asyncio.Event() for _ in range(20)]
        tasks = [asyncio.create_task(stream_lines(streams, unfinished_batch, "dev-key", opened[n], close))
                 for n in range(20)]
        async with asyncio.timeout(60):
            for event in opened:
                await event.wait()
        one_more = await client.call("GET", f"{BATCH}/{unfinished_batch}/events")
        close.set()
        assert set(await asyncio.gather(*tasks)) == {200}
    assert (one_more.status, one_more.code) == (429, "TOO_MANY_STREAMS")
    assert one_more.body["error"]["message"]


async def test_a_header_flood_costs_the_gateway_no_memory_to_speak_of(client):
    gateway = psutil.Process(client.system.process("gateway").pid())
    before = gateway.memory_info().rss
    floods = [client.raw(post(b"", extra=b"X-Flood: " + b"a" * (20 << 20) + b"\r\n")) for _ in range(10)]
    answers = await asyncio.gather(*floods)
    grown = gateway.memory_info().rss - before
    print(f"gateway RSS {before >> 20} MiB before 10 header lines of 20 MiB each, grown by {grown >> 20} MiB")
    assert {answer.status for answer in answers} <= {431, 0}  # 0: the connection closed while still sending
    assert grown < 32 << 20
    await answers_others_within_a_second(client.http)
