"""What one tenant may push: requests a second, bytes uploaded a day, and its share of the backlog.

The backlog limit is the system's (every tenant's accepted bytes not yet ingested); a tenant's
share of it keeps one tenant's backlog from locking the others out. Each figure is the status
service's, across every gateway; the request rate is counted by each gateway on its own.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from docintake.contracts.api import PendingBytes
from docintake.gateway.domain.refusals import BacklogFull, RateLimited, Refusal, UploadQuotaExceeded


@dataclass(frozen=True)
class Allowance:
    max_pending_bytes: int
    # The part of max_pending_bytes one tenant's pending bytes may take (1: all of it).
    tenant_share: float = 1.0
    # Bytes a tenant may upload per day (UTC); 0: no limit.
    upload_bytes_per_day: int = 0
    retry_after_seconds: int = 30


def admission_refusal(pending: PendingBytes, allowance: Allowance, now: datetime) -> Refusal | None:
    """Why a tenant's new batch is refused, given what is pending; None to admit it."""
    if pending.pending_bytes >= allowance.max_pending_bytes:
        return BacklogFull(pending.pending_bytes, pending.pending_documents, allowance.max_pending_bytes,
                           allowance.retry_after_seconds)
    share = int(allowance.max_pending_bytes * allowance.tenant_share)
    if pending.tenant_pending_bytes >= share:
        return BacklogFull(pending.tenant_pending_bytes, pending.tenant_pending_documents, share,
                           allowance.retry_after_seconds, of_tenant=True)
    if allowance.upload_bytes_per_day and pending.tenant_uploaded_bytes_today >= allowance.upload_bytes_per_day:
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
        return UploadQuotaExceeded(pending.tenant_uploaded_bytes_today, allowance.upload_bytes_per_day,
                                   max(1, math.ceil((midnight - now).total_seconds())))
    return None


@dataclass
class TokenBucket:
    """`rate` requests a second, with a burst of one second's worth."""

    rate: float
    tokens: float
    at: float

    def take(self, now: float) -> float:
        """0 if a request may go now (and counts it), else the seconds until one may."""
        self.tokens = min(max(self.rate, 1.0), self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class RequestRates:
    """Each tenant's request rate on this gateway; a rate of 0 or less is no limit."""

    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def check(self, tenant: str, rate: float, now: float) -> None:
        """Counts the request; raises RateLimited when the tenant is over its rate."""
        if rate <= 0:
            return
        bucket = self.buckets.get(tenant)
        if bucket is None or bucket.rate != rate:
            bucket = self.buckets[tenant] = TokenBucket(rate, max(rate, 1.0), now)
        wait = bucket.take(now)
        if wait > 0:
            raise RateLimited(tenant, rate, max(1, math.ceil(wait)))
