"""Claims of Idempotency-Keys, held in object storage so that every gateway instance sees them."""

import asyncio
from datetime import timedelta
from uuid import uuid4

import pytest

from docintake.gateway.adapters import idempotency_store
from docintake.gateway.adapters.idempotency_store import IdempotencyStore
from docintake.gateway.domain.answers import Answer
from docintake.platform.storage import ObjectStore


@pytest.fixture
async def gateways(settings):
    """Two gateways' stores of answers: each with a client of its own, one bucket between them."""
    stores = [ObjectStore(settings) for _ in range(2)]
    await stores[0].ensure_bucket()
    yield [IdempotencyStore(store) for store in stores]
    for store in stores:
        store.close()


async def test_a_key_claimed_on_one_gateway_is_held_on_every_other_until_released(gateways):
    first, second = gateways
    key = f"claim-{uuid4()}"
    assert await first.claim("dev-key", key)
    assert not await second.claim("dev-key", key)
    assert not await first.claim("dev-key", key)
    assert await second.claim("other-key", key)  # keys are per API key
    await first.release("dev-key", key)
    assert await second.claim("dev-key", key)


async def test_many_requests_with_one_key_on_two_gateways_at_once_give_one_holder(gateways):
    key = f"claim-{uuid4()}"
    claims = await asyncio.gather(*(gateways[n % 2].claim("dev-key", key) for n in range(20)))
    assert claims.count(True) == 1


async def test_a_claim_left_by_a_gateway_that_stopped_is_taken_over_once_old(gateways, monkeypatch):
    monkeypatch.setattr(idempotency_store, "CLAIM_LIFETIME", timedelta(seconds=2))
    first, second = gateways
    key = f"claim-{uuid4()}"
    assert await first.claim("dev-key", key)  # and its gateway never releases it
    assert not await second.claim("dev-key", key)
    await asyncio.sleep(3.5)  # older than a claim lives (MinIO keeps the time of a write to the second)
    takeovers = await asyncio.gather(*(second.claim("dev-key", key) for _ in range(10)))
    assert takeovers.count(True) == 1


async def test_an_answer_is_replayed_for_its_lifetime_and_then_forgotten(settings):
    store = ObjectStore(settings)
    answers = IdempotencyStore(store, lifetime=timedelta(seconds=1))
    key = f"answer-{uuid4()}"
    await answers.put("dev-key", key, Answer(202, {"batch_id": key}))
    assert await answers.get("dev-key", key) == Answer(202, {"batch_id": key})
    await asyncio.sleep(1.2)
    assert await answers.get("dev-key", key) is None
    store.close()


async def test_minio_deletes_answers_and_claims_a_day_after_their_lifetime(settings):
    store = ObjectStore(settings)
    await store.ensure_bucket()
    await IdempotencyStore(store, lifetime=timedelta(hours=24)).ensure_expiry()
    assert await store.expiry_days(idempotency_store.PREFIX) == 2
    await IdempotencyStore(store, lifetime=timedelta(hours=49)).ensure_expiry()
    assert await store.expiry_days(idempotency_store.PREFIX) == 4
    store.close()
