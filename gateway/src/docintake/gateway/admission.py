"""Admission control: refuse new batches while too many accepted bytes wait for ingestion.

The pending figure is the status service's: the total size of accepted documents that are
not yet ingested, failed or cancelled, across every gateway. When the status service cannot
be asked, batches are admitted (the backlog guard must not become an outage of its own).
"""

import httpx

from docintake.contracts.api import PendingBytes
from docintake.platform.logging import get_logger
from docintake.platform.web import ApiError

log = get_logger(__name__)


class AdmissionControl:
    def __init__(self, client: httpx.AsyncClient, api_key: str, max_pending_bytes: int, retry_after_seconds: int):
        self.client = client
        self.api_key = api_key
        self.max_pending_bytes = max_pending_bytes
        self.retry_after_seconds = retry_after_seconds

    async def pending(self) -> PendingBytes | None:
        try:
            response = await self.client.get("/api/v1/internal/pending", headers={"X-API-Key": self.api_key},
                                             timeout=2.0)
            response.raise_for_status()
            return PendingBytes.model_validate(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("pending bytes unknown; admitting the batch", error=repr(exc))
            return None

    async def admit(self) -> None:
        pending = await self.pending()
        if pending is not None and pending.pending_bytes >= self.max_pending_bytes:
            raise ApiError(
                503, "INGESTION_BACKLOG_FULL",
                f"{pending.pending_bytes} bytes in {pending.pending_documents} documents are waiting for ingestion "
                f"(limit {self.max_pending_bytes}); retry later",
                {"Retry-After": str(self.retry_after_seconds)},
            )
