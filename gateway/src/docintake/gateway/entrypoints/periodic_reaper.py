"""The reaper every gateway runs: the objects of uploads that never ended, removed once old, and the raw
uploads of batches that finished longer ago than their retention."""

import asyncio
from datetime import UTC, datetime, timedelta

from docintake.gateway.service_layer.ports import BatchFinishes, UploadedObjects
from docintake.gateway.service_layer.upload_retention import expire_finished_uploads, reap_unannounced_uploads
from docintake.gateway.settings import GatewaySettings
from docintake.platform.logging import get_logger

log = get_logger(__name__)


async def run_reaper(store: UploadedObjects, finishes: BatchFinishes, settings: GatewaySettings) -> None:
    unfinished_for = timedelta(hours=settings.unfinished_upload_max_age_hours)
    retention = timedelta(days=settings.upload_retention_days)
    while True:
        await asyncio.sleep(settings.reap_interval_seconds)
        try:
            await reap_unannounced_uploads(store, unfinished_for, datetime.now(UTC))
            if settings.upload_retention_days > 0:
                await expire_finished_uploads(store, finishes, retention, datetime.now(UTC))
        except Exception:  # noqa: BLE001 - a failed round must not end the reaping; the next one retries
            log.exception("reaping round failed")
