"""What one tenant may push: its share of the backlog, its bytes of the day, its requests a second."""

from datetime import UTC, datetime

import pytest

from docintake.contracts.api import PendingBytes
from docintake.gateway.domain.quotas import Allowance, RequestRates, admission_refusal
from docintake.gateway.domain.refusals import BacklogFull, RateLimited, UploadQuotaExceeded
from docintake.gateway.entrypoints.refusal_answers import api_error

NOW = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)
ALLOWANCE = Allowance(max_pending_bytes=1000, tenant_share=0.5, upload_bytes_per_day=5000, retry_after_seconds=30)


def pending(system: int = 0, tenant: int = 0, today: int = 0) -> PendingBytes:
    return PendingBytes(pending_bytes=system, pending_documents=1, tenant_pending_bytes=tenant,
                        tenant_pending_documents=1, tenant_uploaded_bytes_today=today)


@pytest.mark.parametrize("figures", [pending(), pending(system=999, tenant=499, today=4999)])
def test_a_tenant_within_its_share_and_its_day_is_admitted(figures):
    assert admission_refusal(figures, ALLOWANCE, NOW) is None


def test_a_tenant_at_its_share_is_refused_while_another_with_nothing_pending_is_admitted():
    refused = admission_refusal(pending(system=600, tenant=500), ALLOWANCE, NOW)
    assert isinstance(refused, BacklogFull) and "this tenant's share" in refused.message
    assert admission_refusal(pending(system=600, tenant=0), ALLOWANCE, NOW) is None


def test_the_whole_backlog_full_refuses_every_tenant():
    assert isinstance(admission_refusal(pending(system=1000, tenant=0), ALLOWANCE, NOW), BacklogFull)


def test_a_tenant_past_its_bytes_of_the_day_is_refused_until_midnight_utc():
    refused = admission_refusal(pending(today=5000), ALLOWANCE, NOW)
    assert isinstance(refused, UploadQuotaExceeded)
    answer = api_error(refused)
    assert (answer.status, answer.code, answer.headers) == (429, "UPLOAD_QUOTA_EXCEEDED", {"Retry-After": "7200"})
    unlimited = Allowance(max_pending_bytes=1000, tenant_share=0.5)
    assert admission_refusal(pending(today=10**12), unlimited, NOW) is None


def test_a_tenant_over_its_rate_is_refused_with_when_to_retry_and_another_tenant_is_not():
    rates = RequestRates()
    for _ in range(2):
        rates.check("acme", 2, now=100.0)
    with pytest.raises(RateLimited) as refused:
        rates.check("acme", 2, now=100.0)
    answer = api_error(refused.value)
    assert (answer.status, answer.code, answer.headers) == (429, "RATE_LIMITED", {"Retry-After": "1"})
    rates.check("globex", 2, now=100.0)
    rates.check("acme", 2, now=100.5)  # half a second later, one more request's worth has come back
    for _ in range(100):
        rates.check("unlimited", 0, now=100.0)
