"""The periodic chores: fail stalled documents, and publish completions nobody marked published."""

import asyncio

from docintake.contracts.logging import get_logger
from docintake.status.runtime import Runtime
from docintake.status.services import publish_due_completions, time_out_stalled_documents

log = get_logger(__name__)


async def run_maintenance(runtime: Runtime) -> None:
    settings = runtime.settings
    while True:
        await asyncio.sleep(settings.sweep_interval_seconds)
        try:
            await time_out_stalled_documents(runtime.repo, runtime.clock, runtime.publish,
                                             settings.stall_timeout_seconds)
            await publish_due_completions(runtime.repo, runtime.clock, runtime.publish,
                                          settle_seconds=settings.sweep_interval_seconds)
        except Exception:  # noqa: BLE001 - a failed round must not end the chores; the next one retries
            log.exception("maintenance round failed")
