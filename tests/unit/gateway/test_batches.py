"""accept_batch against small fakes: what a failing store or broker leaves announced."""

import httpx
import pytest

from docintake.gateway.adapters.multipart import MultipartReader, boundary_of
from docintake.gateway.domain.refusals import Refusal
from docintake.gateway.entrypoints.refusal_answers import api_error
from docintake.gateway.service_layer.accept_batch import accept_batch
from docintake.gateway.settings import GatewaySettings
from docintake.platform.storage import StoredObject
from docintake.platform.web import ApiError


def parts_of(*names: str):
    upload = [("files", (name, b"text", "text/plain")) for name in names]
    request = httpx.Request("POST", "http://gateway/", files=upload)
    body = request.read()

    async def stream():
        yield body

    return MultipartReader(stream(), boundary_of(request.headers["content-type"])).parts()


class Store:
    bucket = "docintake-uploads"

    def __init__(self, reachable: bool = True) -> None:
        self.reachable = reachable
        self.objects: set[str] = set()

    async def put_stream(self, key, chunks, *, content_type, metadata, max_bytes) -> StoredObject:
        content = b"".join([chunk async for chunk in chunks])
        if not self.reachable:
            raise ConnectionRefusedError("storage unreachable")
        self.objects.add(key)
        return StoredObject(key=key, size=len(content), sha256="00" * 32)

    async def remove(self, keys) -> None:
        self.objects.difference_update(keys)


class Broker:
    """Confirms the first `confirms` publishes, then is unreachable."""

    def __init__(self, confirms: int) -> None:
        self.confirms = confirms
        self.attempted: list[str] = []

    async def publish(self, events) -> None:
        self.attempted.extend(event.event_type for event in events)
        if self.confirms == 0:
            raise ConnectionRefusedError("broker unreachable")
        self.confirms -= 1


async def refused(store: Store, broker: Broker) -> ApiError:
    with pytest.raises(Refusal) as refusal:
        await accept_batch(parts_of("a.txt", "b.txt"), store, broker.publish, GatewaySettings().batch_limits)
    answer = api_error(refusal.value)
    assert answer.status == 503 and answer.code == "SERVICE_UNAVAILABLE"
    assert store.objects == set()
    return answer


async def test_storage_down_announces_nothing():
    broker = Broker(confirms=2)
    await refused(Store(reachable=False), broker)
    assert broker.attempted == []


async def test_broker_lost_after_batch_created_withdraws_the_batch():
    broker = Broker(confirms=1)
    await refused(Store(), broker)
    assert broker.attempted == [
        "docintake.batch.created", *["docintake.document.queued"] * 2, "docintake.batch.cancelled"]


async def test_a_batch_is_announced_before_its_documents():
    broker, store = Broker(confirms=2), Store()
    accepted = await accept_batch(parts_of("a.txt", "b.txt"), store, broker.publish, GatewaySettings().batch_limits)
    assert accepted.total_documents == 2 and len(store.objects) == 2
    assert broker.attempted == ["docintake.batch.created", "docintake.document.queued", "docintake.document.queued"]
