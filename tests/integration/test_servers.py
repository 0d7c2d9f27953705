"""Smoke tests of each real server through the project's own settings and adapters."""

import hashlib
from uuid import uuid4

from docintake.contracts.events import BatchCancelled
from docintake.platform.graphdb import open_driver
from docintake.platform.messaging import declare_topology, make_broker, publish
from docintake.platform.storage import ObjectStore
from tests.support.broker import listen


async def test_an_event_published_to_the_exchange_reaches_a_bound_queue(settings):
    broker = make_broker(settings.rabbitmq_url)
    await broker.connect()
    try:
        await declare_topology(broker)
        event = BatchCancelled(batch_id=uuid4())
        async with listen(settings.rabbitmq_url, "batch.cancelled") as listener:
            await publish(broker, event)
            received = await listener.collect(
                lambda events: [e for e in events if e["event_id"] == str(event.event_id)])
        assert received[0]["batch_id"] == str(event.batch_id)
    finally:
        await broker.stop()


async def test_an_object_is_put_stated_and_read_back(settings, tmp_path):
    store = ObjectStore(settings)
    await store.ensure_bucket()
    payload = b"docintake " * 200_000
    key = f"smoke/{uuid4()}"

    async def chunks():
        for start in range(0, len(payload), 65536):
            yield payload[start : start + 65536]

    stored = await store.put_stream(
        key, chunks(), content_type="text/plain", metadata={"filename": "smoke.txt"}, max_bytes=10**8
    )
    assert stored.sha256 == hashlib.sha256(payload).hexdigest()
    assert stored.size == len(payload)
    info = await store.stat(key)
    assert info["size"] == str(len(payload))
    assert info.get("x-amz-meta-filename") == "smoke.txt"
    target = tmp_path / "copy"
    assert await store.download(key, target) == len(payload)
    assert target.read_bytes() == payload
    await store.remove([key])
    assert await store.keys(key) == []


async def test_a_cypher_write_is_read_back(settings):
    driver = open_driver(settings)
    marker = str(uuid4())
    try:
        await driver.execute_query("CREATE (:SmokeTest {marker: $marker})", marker=marker)
        records, _, _ = await driver.execute_query(
            "MATCH (n:SmokeTest {marker: $marker}) RETURN count(n) AS n", marker=marker
        )
        assert records[0]["n"] == 1
        await driver.execute_query("MATCH (n:SmokeTest {marker: $marker}) DELETE n", marker=marker)
    finally:
        await driver.close()


async def test_an_object_is_created_only_where_there_is_none_and_replaced_only_at_the_version_read(settings):
    store = ObjectStore(settings)
    await store.ensure_bucket()
    key = f"smoke/{uuid4()}"
    assert await store.version(key) is None
    assert await store.create(key, b"first")
    assert not await store.create(key, b"second")
    assert await store.get_bytes(key) == b"first"
    read = await store.version(key)
    assert read is not None
    assert await store.replace(key, b"third", read)
    assert not await store.replace(key, b"fourth", read)  # another write came after `read`
    assert await store.get_bytes(key) == b"third"
    await store.remove([key])


async def test_expiry_rules_of_the_bucket_are_set_per_prefix_and_keep_each_other(settings):
    store = ObjectStore(settings)
    await store.ensure_bucket()
    first, second = "smoke-expiry-first/", "smoke-expiry-second/"  # fixed: a rule is replaced, never added again
    await store.expire(first, 3)
    await store.expire(second, 5)
    await store.expire(first, 4)
    await store.expire(second, 5)
    assert (await store.expiry_days(first), await store.expiry_days(second)) == (4, 5)
    assert await store.expiry_days("smoke-expiry-never-set/") is None
