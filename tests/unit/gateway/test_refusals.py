"""Every refusal has its one HTTP answer; admission control refuses only a known, full backlog."""

import inspect

import pytest

from docintake.contracts.api import PendingBytes
from docintake.gateway.domain import refusals
from docintake.gateway.domain.quotas import Allowance
from docintake.gateway.domain.refusals import BacklogFull, Refusal, StatusServiceUnavailable
from docintake.gateway.entrypoints.refusal_answers import ANSWERS, api_error
from docintake.gateway.service_layer.admission import admit


def test_every_refusal_has_an_answer():
    defined = {cls for _, cls in inspect.getmembers(refusals, inspect.isclass)
               if issubclass(cls, Refusal) and cls is not Refusal}
    assert defined == set(ANSWERS)


class Backlog:
    def __init__(self, pending_bytes: int | None):
        self.pending_bytes = pending_bytes

    async def pending(self, tenant: str) -> PendingBytes:
        if self.pending_bytes is None:
            raise StatusServiceUnavailable()
        return PendingBytes(pending_bytes=self.pending_bytes, pending_documents=3)


@pytest.mark.parametrize("pending", [None, 0, 99])
async def test_a_batch_is_admitted_below_the_limit_or_when_the_backlog_is_unknown(pending):
    await admit(Backlog(pending), Allowance(max_pending_bytes=100, retry_after_seconds=30))


async def test_a_full_backlog_is_refused_with_a_retry_after():
    with pytest.raises(BacklogFull) as refusal:
        await admit(Backlog(100), Allowance(max_pending_bytes=100, retry_after_seconds=30))
    answer = api_error(refusal.value)
    assert (answer.status, answer.code, answer.headers) == (503, "INGESTION_BACKLOG_FULL", {"Retry-After": "30"})
