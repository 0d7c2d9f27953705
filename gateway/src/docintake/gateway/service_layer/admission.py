"""Admission control: refuse a tenant's new batch while too many accepted bytes wait for ingestion (in
all, or of the tenant), or once the tenant uploaded its bytes of the day.

The figures are the status service's: the size of accepted documents not yet ingested, failed or
cancelled, and of those uploaded today, across every gateway. When the status service cannot be
asked, batches are admitted (the backlog guard must not become an outage of its own).
"""

from datetime import UTC, datetime

from docintake.contracts.events import DEFAULT_TENANT
from docintake.gateway.domain.quotas import Allowance, admission_refusal
from docintake.gateway.domain.refusals import StatusServiceUnavailable
from docintake.gateway.service_layer.ports import PendingSource
from docintake.platform.logging import get_logger

log = get_logger(__name__)


async def admit(backlog: PendingSource, allowance: Allowance, tenant: str = DEFAULT_TENANT,
                now: datetime | None = None) -> None:
    try:
        pending = await backlog.pending(tenant)
    except StatusServiceUnavailable as exc:
        log.warning("pending bytes unknown; admitting the batch", error=repr(exc.__cause__ or exc))
        return
    refusal = admission_refusal(pending, allowance, now or datetime.now(UTC))
    if refusal is not None:
        log.info("batch refused", tenant=tenant, reason=refusal.message)
        raise refusal
