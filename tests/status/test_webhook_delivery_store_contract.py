"""The DeliveryStore contract, held by the in-memory fake the unit tests use and by the Neo4j adapter alike."""

import asyncio
import random
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from docintake.contracts.events import BatchCompleted, BatchCompletedData
from docintake.status.adapters.in_memory_webhook_deliveries import InMemoryDeliveryStore
from docintake.status.adapters.neo4j_webhook_deliveries import Neo4jDeliveryStore
from docintake.status.domain.webhooks import BatchCallback, Delivery, Parked, RetryPolicy, Target

POLICY = RetryPolicy(retry_for_seconds=3600, initial_backoff_seconds=10, max_backoff_seconds=300)


# Every delivery these tests make is of before this; a running status service's are all later.
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


async def forget_these_tests_deliveries(store: Neo4jDeliveryStore) -> None:
    """So that claims (of whatever is due) see only the test's own, and no status service tries them."""
    await store._driver.execute_query("MATCH (d:WebhookDelivery) WHERE d.created_at < $long_ago DELETE d",
                                      long_ago=LONG_AGO.timestamp())


@pytest.fixture(params=["in_memory", "neo4j"])
async def store(request, neo4j_deliveries):
    if request.param == "in_memory":
        yield InMemoryDeliveryStore()
        return
    neo4j = neo4j_deliveries
    await forget_these_tests_deliveries(neo4j)
    yield neo4j
    await forget_these_tests_deliveries(neo4j)


@pytest.fixture
def base():
    return datetime(1990, 1, 1, tzinfo=UTC) + timedelta(days=random.randrange(3000), seconds=random.randrange(86400))


def delivery(url: str, at: datetime, batch_id=None) -> Delivery:
    batch_id = batch_id or uuid4()
    event = BatchCompleted(event_id=uuid4(), batch_id=batch_id, tenant="acme", data=BatchCompletedData(
        status="completed", total_documents=1, processed_count=1, failed_count=0, completed_at=at,
        processing_time_seconds=1.0))
    return Delivery.of(event, event.to_json().decode(), url, "acme", at)


def none_for(parked):
    return []


async def test_a_batch_callback_is_kept_once_as_first_said(store):
    batch_id = uuid4()
    assert await store.callback_of(batch_id) is None
    callback = BatchCallback(batch_id, "acme", Target("https://a.example/cb", documents=True))
    assert await store.register(callback, none_for) == 0
    await store.register(BatchCallback(batch_id, "other", None), none_for)
    assert await store.callback_of(batch_id) == callback
    assert await store.callback_or_park(Parked(uuid4(), batch_id, "{}")) == callback
    plain = uuid4()
    await store.register(BatchCallback(plain, "acme"), none_for)
    assert await store.callback_of(plain) == BatchCallback(plain, "acme", None)


async def test_events_before_the_batch_callback_are_parked_and_handed_over_once_when_it_comes(store, base):
    batch_id = uuid4()
    early = [Parked(uuid4(), batch_id, f'{{"n": {n}}}') for n in range(2)]
    for parked in early + early[:1]:  # one of them delivered twice
        assert await store.callback_or_park(parked) is None
    assert await store.callback_of(batch_id) is None
    handed: list = []

    def deliveries_for(parked):
        handed.extend(parked)
        return [delivery("https://a.example/cb", base, batch_id) for _ in parked]

    callback = BatchCallback(batch_id, "acme", Target("https://a.example/cb", documents=True))
    assert await store.register(callback, deliveries_for) == 2
    assert sorted(handed, key=lambda p: p.body) == early
    assert await store.register(callback, deliveries_for) == 0  # the BatchCreated again
    assert len(handed) == 2 and len(await store.of_batch(batch_id)) == 2
    assert await store.callback_or_park(Parked(uuid4(), batch_id, "{}")) == callback


async def test_many_events_at_once_before_the_batch_callback_are_all_parked_and_each_handed_over_once(store, base):
    batch_id = uuid4()
    early = [Parked(uuid4(), batch_id, f'{{"n": {n}}}') for n in range(40)]

    assert await asyncio.gather(*(store.callback_or_park(parked) for parked in early + early[:5])) == [None] * 45
    handed: list = []
    callback = BatchCallback(batch_id, "acme", Target("https://a.example/cb", documents=True))
    assert await store.register(callback, lambda parked: handed.extend(parked) or []) == 0
    assert sorted(handed, key=lambda p: p.event_id) == sorted(early, key=lambda p: p.event_id)


async def test_many_events_at_once_of_a_registered_batch_all_get_its_callback(store):
    """More at once than the Neo4j store has connections: none waits past its turn, and none is parked (a
    second registration would be handed none)."""
    batch_id = uuid4()
    callback = BatchCallback(batch_id, "acme", Target("https://a.example/cb", documents=True))
    await store.register(callback, none_for)

    answers = await asyncio.gather(*(store.callback_or_park(Parked(uuid4(), batch_id, "{}")) for _ in range(50)))

    assert answers == [callback] * 50
    handed: list = []
    assert await store.register(callback, lambda parked: handed.extend(parked) or []) == 0
    assert handed == []


async def test_deliveries_are_added_once_and_read_back_whole(store, base):
    batch_id = uuid4()
    first, second = delivery("https://a.example/", base, batch_id), delivery("https://b.example/", base, batch_id)
    assert await store.add([first, second]) == 2
    assert await store.add([first, second]) == 0
    assert await store.of_batch(batch_id) == [first, second]
    assert await store.of_batch(uuid4()) == []


async def test_due_deliveries_are_claimed_earliest_first_and_leased(store, base):
    # Whatever earlier tests left due around `base` in the shared store is leased far away first.
    await store.claim_due(base + timedelta(days=1), base + timedelta(days=36500), 1_000_000)
    batch_id = uuid4()
    early, late = delivery("https://a.example/", base, batch_id), delivery("https://b.example/", base, batch_id)
    late = Delivery(**{**vars(late), "next_attempt_at": base + timedelta(seconds=5)})
    await store.add([late, early])
    lease = base + timedelta(seconds=60)

    assert await store.claim_due(base - timedelta(seconds=1), lease, 10) == []
    [claimed] = await store.claim_due(base, lease, 10)
    assert claimed.delivery_id == early.delivery_id and claimed.next_attempt_at == lease
    [claimed_late] = await store.claim_due(base + timedelta(seconds=5), lease, 1)
    assert claimed_late.delivery_id == late.delivery_id
    assert await store.claim_due(base + timedelta(seconds=30), lease, 10) == []  # both leased
    assert len(await store.claim_due(lease, lease + timedelta(seconds=60), 10)) == 2  # a lease run out


async def test_a_tries_outcome_is_kept_and_only_pending_ones_are_due(store, base):
    batch_id = uuid4()
    failing, delivering = delivery("https://a.example/", base, batch_id), delivery("https://b.example/", base, batch_id)
    await store.add([failing, delivering])
    failed = failing.failed(base, "answered 500: oops", POLICY)
    done = delivering.succeeded(base)
    await store.save(failed)
    await store.save(done)

    assert await store.of_batch(batch_id) == [failed, done]
    assert await store.claim_due(base + timedelta(seconds=9), base + timedelta(minutes=1), 10) == []
    [due] = await store.claim_due(base + timedelta(seconds=10), base + timedelta(minutes=1), 10)
    assert due.delivery_id == failing.delivery_id and due.attempts == 1 and due.last_error == "answered 500: oops"


async def test_finished_deliveries_tried_before_the_time_are_forgotten_and_pending_ones_stay(store, base):
    batch_id = uuid4()
    old_done = delivery("https://a.example/", base, batch_id).succeeded(base)
    old_pending = delivery("https://b.example/", base, batch_id)
    new_done = delivery("https://c.example/", base, batch_id).succeeded(base + timedelta(days=2))
    await store.add([old_done, old_pending, new_done])
    await store.forget_finished(base + timedelta(days=1))
    assert {d.url for d in await store.of_batch(batch_id)} == {"https://b.example/", "https://c.example/"}
