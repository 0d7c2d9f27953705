"""Webhook deliveries are made at least once: a try cut off by a crash is made again by the status service
started after it (in a module of its own, so that no other status service is there to take it up)."""

import asyncio
import signal

import pytest

from docintake.platform.messaging import publish_all
from docintake.status.domain.webhooks import DELIVERY_HEADER
from tests.support.eventually import eventually
from tests.support.status_service import StatusService, status_when
from tests.support.webhooks import FAST_RETRIES, Receiver, acme_batch, tenants_file


@pytest.fixture
async def receiver():
    async with Receiver().serving() as found:
        yield found


async def test_a_delivery_cut_off_by_a_crash_is_tried_again_by_the_restarted_service(broker, tmp_path, receiver):
    """The first try hangs until the service is killed; the service started again tries again, under the same id."""
    settings = {**FAST_RETRIES, "webhook_timeout_seconds": 1,
                "tenants_file": tenants_file(tmp_path / "tenants.json", receiver)}
    synthetic, events = acme_batch(1, callback_url=f"{receiver.base_url}/crash")
    receiver.answer("crash", synthetic.batch_id, 0)
    try:
        async with StatusService(tmp_path / "first.log", **settings).running(signal.SIGKILL) as first:
            await publish_all(broker, events)
            await eventually(lambda: asyncio.sleep(0, receiver.of_batch(synthetic.batch_id, "crash")), bool, 30)
    finally:
        receiver.release.set()
    assert first.exit_code == -signal.SIGKILL

    async with StatusService(tmp_path / "second.log", **settings).running() as second, second.client() as http:
        done = await status_when(http, synthetic.batch_id, lambda s: any(
            w.url.endswith("/crash") and w.state == "delivered" for w in s.webhooks), timeout=60)
    assert second.exit_code == 0
    tries = receiver.of_batch(synthetic.batch_id, "crash")
    assert len(tries) == 2 and len({got.header(DELIVERY_HEADER) for got in tries}) == 1
    [crashed] = [w for w in done.webhooks if w.url.endswith("/crash")]
    assert crashed.attempts == 1  # the try cut off was never recorded; the one that answered was
