"""Signed webhooks from the real status service, through the real broker and Neo4j, to a receiver on
loopback (allow-listed here): one delivery per completed batch, its tries after failures under one id,
every one signed, and the tries visible in the batch's status."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from docintake.contracts.events import BatchCompleted
from docintake.platform.messaging import publish_all
from docintake.status.domain.webhooks import DELIVERY_HEADER, EVENT_HEADER
from tests.support.status_service import status_when
from tests.support.webhooks import FAST_RETRIES, Receiver, acme_batch, assert_signed, tenants_file


@pytest.fixture(scope="module")
async def receiver():
    async with Receiver().serving() as found:
        yield found


@pytest.fixture(scope="module")
def status_settings(tmp_path_factory, receiver):
    return {"tenants_file": tenants_file(tmp_path_factory.mktemp("webhooks") / "t.json", receiver), **FAST_RETRIES}


async def test_a_completed_batch_is_delivered_once_signed_and_retried_under_one_id_after_two_500s(
        broker, http, receiver):
    synthetic, events = acme_batch(2)
    receiver.answer("acme", synthetic.batch_id, 500, 500)
    await publish_all(broker, events)

    done = await status_when(http, synthetic.batch_id,
                             lambda s: bool(s.webhooks) and s.webhooks[0].state != "pending", timeout=30)
    tries = receiver.of_batch(synthetic.batch_id)
    assert [got.path for got in tries] == ["acme", "acme", "acme"]
    assert len({got.header(DELIVERY_HEADER) for got in tries}) == 1
    for got in tries:
        assert_signed(got)
        assert got.header(EVENT_HEADER) == "docintake.batch.completed"
        completion = BatchCompleted.model_validate_json(got.body)
        assert (completion.batch_id, completion.event_id) == (synthetic.batch_id,
                                                              BatchCompleted.id_for(synthetic.batch_id))
        assert completion.data.status == "completed"

    [webhook] = done.webhooks
    assert (webhook.url, webhook.state, webhook.attempts) == (f"{receiver.base_url}/acme", "delivered", 3)
    counted = {sample.labels["state"]: sample.value
             for family in text_string_to_metric_families((await http.get("/metrics")).text)
             for sample in family.samples if sample.name == "docintake_status_webhook_tries_total"}
    assert counted["pending"] >= 2 and counted["delivered"] >= 1
    assert str(webhook.delivery_id) == tries[0].header(DELIVERY_HEADER)
    assert webhook.delivered_at is not None and webhook.last_error is None


async def test_a_batchs_own_callback_is_told_of_each_document_and_the_completion(broker, http, receiver):
    synthetic, events = acme_batch(2, callback_url=f"{receiver.base_url}/batch-cb", documents=True)
    await publish_all(broker, events)

    done = await status_when(http, synthetic.batch_id,
                             lambda s: len(s.webhooks) == 4 and all(w.state == "delivered" for w in s.webhooks))
    to_callback = receiver.of_batch(synthetic.batch_id, "batch-cb")
    assert sorted(got.event["event_type"] for got in to_callback) == [
        "docintake.batch.completed", "docintake.document.ingested", "docintake.document.ingested"]
    assert [got.event["event_type"] for got in receiver.of_batch(synthetic.batch_id, "acme")] == [
        "docintake.batch.completed"]  # the tenant's webhook asked for completions only
    for got in to_callback:
        assert_signed(got)
    assert {(w.url.rsplit("/", 1)[1], w.attempts) for w in done.webhooks} == {("batch-cb", 1), ("acme", 1)}


async def test_a_callback_that_is_not_allow_listed_is_not_called_and_its_status_says_why(broker, http, receiver):
    synthetic, events = acme_batch(1, callback_url="http://10.255.255.1:9/hook")
    await publish_all(broker, events)

    done = await status_when(http, synthetic.batch_id, lambda s: any(
        w.url.startswith("http://10.") and w.attempts >= 1 for w in s.webhooks))
    [refused] = [w for w in done.webhooks if w.url.startswith("http://10.")]
    assert refused.state == "pending" and "not public and not allow-listed" in refused.last_error
