"""Webhooks without servers: who is told of what, the signature, the backoff schedule and the giving up,
and the delivery loop against an in-memory store and a receiver that fails when told to."""

import asyncio
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from docintake.contracts.events import BatchCompleted, BatchCompletedData, BatchCreated, BatchCreatedData
from docintake.platform.errors import ReceiverFailed
from docintake.platform.webhook_targets import TargetRefused
from docintake.status.adapters.in_memory_webhook_deliveries import InMemoryDeliveryStore
from docintake.status.domain.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Delivery,
    RetryPolicy,
    Target,
    delivery_id,
    signature,
    signature_matches,
    signed_headers,
    targets_of,
)
from docintake.status.entrypoints.webhook_deliveries import Webhooks, run_deliveries
from docintake.status.service_layer.webhooks import TenantHooks, attempt, deliveries_of, take_event
from tests.support.eventually import eventually
from tests.support.status_events import SyntheticBatch

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRET = "whsec-test"
POLICY = RetryPolicy(retry_for_seconds=3600, initial_backoff_seconds=10, max_backoff_seconds=300)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Receiver:
    """Records every POST; answers with the failures it is given first, then 2xx."""

    def __init__(self, failures: list[str] | None = None) -> None:
        self.failures = list(failures or [])
        self.received: list[tuple[str, bytes, dict[str, str]]] = []

    async def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        self.received.append((url, body, headers))
        if self.failures:
            raise ReceiverFailed(self.failures.pop(0))


async def allowed(url: str) -> None:
    pass


def completion(batch_id, tenant: str = "acme") -> BatchCompleted:
    return BatchCompleted(event_id=BatchCompleted.id_for(batch_id), batch_id=batch_id, tenant=tenant,
                          data=BatchCompletedData(status="completed", total_documents=1, processed_count=1,
                                                  failed_count=0, completed_at=T0, processing_time_seconds=1.0))


def hooks(*targets: Target, secret: str | None = SECRET):
    return lambda tenant: TenantHooks(secret, targets) if tenant == "acme" else None


def test_the_signature_is_hmac_sha256_over_the_timestamp_and_the_body():
    body = b'{"event_type": "docintake.batch.completed"}'
    expected = hmac.new(SECRET.encode(), b"1767268800." + body, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1767268800, body) == f"sha256={expected}"
    assert signature_matches(SECRET, 1767268800, body, f"sha256={expected}")
    assert not signature_matches(SECRET, 1767268801, body, f"sha256={expected}")
    assert not signature_matches("another secret", 1767268800, body, f"sha256={expected}")
    assert not signature_matches(SECRET, 1767268800, body + b" ", f"sha256={expected}")


def test_the_headers_carry_an_id_stable_across_tries_and_a_fresh_signature_each():
    event = completion(uuid4())
    delivery = Delivery.of(event, event.to_json().decode(), "https://hooks.example.com/a", "acme", T0)
    first, second = signed_headers(delivery, SECRET, 100), signed_headers(delivery, SECRET, 160)
    assert first[DELIVERY_HEADER] == second[DELIVERY_HEADER] == str(delivery_id(event.event_id, delivery.url))
    assert (first[TIMESTAMP_HEADER], second[TIMESTAMP_HEADER]) == ("100", "160")
    assert signature_matches(SECRET, 160, event.to_json(), second[SIGNATURE_HEADER])
    assert delivery_id(event.event_id, "https://hooks.example.com/b") != delivery.delivery_id


def test_completions_go_to_every_target_and_document_outcomes_only_to_those_that_asked():
    synthetic = SyntheticBatch(size=2)
    everything, completions = Target("https://a.example/", documents=True), Target("https://b.example/")
    targets = [everything, completions, Target("https://a.example/")]
    assert targets_of(completion(synthetic.batch_id), targets) == ["https://a.example/", "https://b.example/"]
    assert targets_of(synthetic.ingested(0), targets) == ["https://a.example/"]
    assert targets_of(synthetic.failed(1), targets) == ["https://a.example/"]
    assert targets_of(synthetic.created(), targets) == []


def test_the_backoff_doubles_up_to_its_ceiling_and_the_delivery_is_given_up_past_the_window():
    assert [POLICY.backoff(n).total_seconds() for n in range(1, 8)] == [10, 20, 40, 80, 160, 300, 300]
    event = completion(uuid4())
    delivery = Delivery.of(event, "{}", "https://a.example/", "acme", T0)
    tried_at = []
    while delivery.state == "pending":
        delivery = delivery.failed(delivery.next_attempt_at, "answered 500", POLICY)
        tried_at.append((delivery.last_attempt_at - T0).total_seconds())
    assert delivery.state == "given_up" and delivery.last_error == "answered 500"
    # tries at 0, 10, 30, 70, 150, 310 s, then every 300 s; the last is the one whose next would pass the hour
    assert tried_at == [0, 10, 30, 70, 150] + [310 + 300 * n for n in range(11)]


def test_a_delivery_that_succeeds_is_delivered_with_its_tries_counted():
    delivery = Delivery.of(completion(uuid4()), "{}", "https://a.example/", "acme", T0)
    done = delivery.failed(T0, "answered 500", POLICY).failed(T0 + timedelta(seconds=10), "boom", POLICY) \
        .succeeded(T0 + timedelta(seconds=30))
    view = done.view()
    assert (view.state, view.attempts, view.last_error, view.next_attempt_at) == ("delivered", 3, None, None)
    assert view.delivered_at == T0 + timedelta(seconds=30)


async def test_a_batch_callback_and_the_tenants_webhooks_each_get_one_delivery_once():
    store, clock = InMemoryDeliveryStore(), Clock()
    synthetic = SyntheticBatch(size=1)
    created = BatchCreated(batch_id=synthetic.batch_id, tenant="acme", data=BatchCreatedData(
        documents=synthetic.refs, callback_url="https://batch.example/cb", callback_documents=True))
    of_tenant = hooks(Target("https://tenant.example/hook"))
    assert await take_event(created, created.to_json().decode(), store, of_tenant, clock) == 0

    done = completion(synthetic.batch_id, tenant="default")  # whose batch it is comes from its BatchCreated
    assert await take_event(done, done.to_json().decode(), store, of_tenant, clock) == 2
    assert await take_event(done, done.to_json().decode(), store, of_tenant, clock) == 0  # a redelivery
    ingested = synthetic.ingested(0)
    assert await take_event(ingested, ingested.to_json().decode(), store, of_tenant, clock) == 1

    deliveries = await store.of_batch(synthetic.batch_id)
    assert {(delivery.url, delivery.event_type, delivery.tenant) for delivery in deliveries} == {
        ("https://tenant.example/hook", "docintake.batch.completed", "acme"),
        ("https://batch.example/cb", "docintake.batch.completed", "acme"),
        ("https://batch.example/cb", "docintake.document.ingested", "acme"),
    }


async def test_outcomes_before_their_batch_created_reach_the_batch_callback_once_it_comes():
    store, clock = InMemoryDeliveryStore(), Clock()
    synthetic = SyntheticBatch(size=2)
    of_tenant = hooks(Target("https://tenant.example/hook"))
    early = [synthetic.ingested(0).model_copy(update={"tenant": "acme"}),
             completion(synthetic.batch_id, tenant="acme")]
    # the tenant's webhook is told of the completion at once; the batch's callback is not known yet
    assert [await take_event(event, event.to_json().decode(), store, of_tenant, clock) for event in early] == [0, 1]

    created = BatchCreated(batch_id=synthetic.batch_id, tenant="acme", data=BatchCreatedData(
        documents=synthetic.refs, callback_url="https://batch.example/cb", callback_documents=True))
    assert await take_event(created, created.to_json().decode(), store, of_tenant, clock) == 2
    assert await take_event(created, created.to_json().decode(), store, of_tenant, clock) == 0
    late = synthetic.ingested(1).model_copy(update={"tenant": "acme"})
    assert await take_event(late, late.to_json().decode(), store, of_tenant, clock) == 1

    deliveries = await store.of_batch(synthetic.batch_id)
    assert sorted((delivery.url, delivery.event_id) for delivery in deliveries) == sorted([
        ("https://tenant.example/hook", early[1].event_id), ("https://batch.example/cb", early[0].event_id),
        ("https://batch.example/cb", early[1].event_id), ("https://batch.example/cb", late.event_id)])


async def test_a_deletions_completion_goes_to_the_tenants_webhooks_and_is_not_parked():
    store, clock = InMemoryDeliveryStore(), Clock()
    deletion = completion(uuid4())
    deletion = deletion.model_copy(update={"data": deletion.data.model_copy(update={"kind": "deletion"})})
    added = await take_event(deletion, deletion.to_json().decode(), store,
                             hooks(Target("https://tenant.example/hook")), clock)
    assert added == 1 and store.parked == {} and store.callbacks == {}


async def test_failed_tries_keep_their_error_and_a_later_one_delivers():
    store, clock, receiver = InMemoryDeliveryStore(), Clock(), Receiver(["answered 500", "answered 500"])
    event = completion(uuid4())
    await store.add([Delivery.of(event, event.to_json().decode(), "https://a.example/", "acme", T0)])

    for expected_attempts in (1, 2, 3):
        [due] = await store.claim_due(clock(), clock() + timedelta(seconds=60), 10)
        assert await store.claim_due(clock(), clock() + timedelta(seconds=60), 10) == []  # leased
        tried = await attempt(due, store, receiver, allowed, hooks(), clock, POLICY)
        assert tried.attempts == expected_attempts
        clock.now = tried.next_attempt_at

    [view] = await deliveries_of(event.batch_id, store)
    assert (view.state, view.attempts) == ("delivered", 3)
    ids = {headers[DELIVERY_HEADER] for _, _, headers in receiver.received}
    assert ids == {str(view.delivery_id)}
    for _, body, headers in receiver.received:
        assert signature_matches(SECRET, int(headers[TIMESTAMP_HEADER]), body, headers[SIGNATURE_HEADER])


async def test_a_refused_target_or_a_missing_secret_is_a_failed_try_that_sends_nothing():
    store, clock, receiver = InMemoryDeliveryStore(), Clock(), Receiver()

    async def refused(url: str) -> None:
        raise TargetRefused("The callback host a.example resolves to 10.0.0.1, which is not public")

    event = completion(uuid4())
    delivery = Delivery.of(event, "{}", "https://a.example/", "acme", T0)
    tried = await attempt(delivery, store, receiver, refused, hooks(), clock, POLICY)
    assert tried.state == "pending" and tried.last_error.startswith("refused: ") and "10.0.0.1" in tried.last_error
    tried = await attempt(delivery, store, receiver, allowed, hooks(secret=None), clock, POLICY)
    assert "no webhook secret" in tried.last_error
    assert receiver.received == []


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_the_loop_delivers_what_is_due_and_a_slow_receiver_holds_only_its_own_slot(concurrency):
    store, receiver = InMemoryDeliveryStore(), Receiver()
    slow_started, release = asyncio.Event(), asyncio.Event()

    async def send(url, body, headers):
        if url == "https://slow.example/":
            slow_started.set()
            await release.wait()
        await receiver(url, body, headers)

    webhooks = Webhooks(store=store, hooks_of=hooks(), send=send, check_target=allowed,
                        clock=lambda: datetime.now(UTC), policy=POLICY, concurrency=concurrency, poll_seconds=0.05,
                        timeout_seconds=1)
    now = datetime.now(UTC)
    events = [completion(uuid4()) for _ in range(3)]
    await store.add([Delivery.of(events[0], "{}", "https://slow.example/", "acme", now)])
    await store.add([Delivery.of(event, "{}", "https://fast.example/", "acme", now + timedelta(milliseconds=1))
                     for event in events[1:]])
    loop = asyncio.create_task(run_deliveries(webhooks))
    try:
        await asyncio.wait_for(slow_started.wait(), 5)
        if concurrency > 1:
            await eventually(lambda: asyncio.sleep(0, len(receiver.received)), lambda count: count == 2, 5)
        release.set()
        await eventually(lambda: asyncio.sleep(0, len(receiver.received)), lambda count: count == 3, 5)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    assert {url for url, _, _ in receiver.received} == {"https://slow.example/", "https://fast.example/"}
    assert all(delivery.state == "delivered" for delivery in store.deliveries.values())
