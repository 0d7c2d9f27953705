"""The reaper every gateway runs: the objects of uploads that never ended, removed once old."""

import asyncio
from datetime import UTC, datetime, timedelta

from docintake.gateway.service_layer.ports import UploadedObjects
from docintake.gateway.service_layer.upload_retention import reap_unannounced_uploads
from docintake.gateway.settings import GatewaySettings
from docintake.platform.logging import get_logger

log = get_logger(__name__)


async def run_reaper(store: UploadedObjects, settings: GatewaySettings) -> None:
    unfinished_for = timedelta(hours=settings.unfinished_upload_max_age_hours)
    while True:
        await asyncio.sleep(settings.reap_interval_seconds)
        try:
            await reap_unannounced_uploads(store, unfinished_for, datetime.now(UTC))
        except Exception:  # noqa: BLE001 - a failed round must not end the reaping; the next one retries
            log.exception("reaping round failed")
