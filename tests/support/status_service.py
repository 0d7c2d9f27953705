"""Running the status service as a real process (deploy.native's ServiceProcess), and reading its status."""

import asyncio
import json
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import UUID

import httpx

from deploy.native.services import ServiceProcess
from docintake.contracts.api import BatchStatus
from tests.support.eventually import eventually
from tests.support.http import free_port

API_KEY = "status-test-key"
STATUS = "/api/v1/documents/ingest/batch/{}/status"


class StatusService:
    """`docintake-status` on a free port, its JSON log lines in `log_path`."""

    def __init__(self, log_path: Path, **settings: object):
        self.port = free_port()
        self.exit_code: int | None = None  # once stopped by running()
        self.process = ServiceProcess(log_path.stem, "docintake-status", log_path.parent, {
            "DOCINTAKE_STATUS_PORT": str(self.port),
            "DOCINTAKE_API_KEYS": API_KEY,
            "DOCINTAKE_SWEEP_INTERVAL_SECONDS": "0.5",
            **{f"DOCINTAKE_{name.upper()}": str(value) for name, value in settings.items()},
        })

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, headers={"X-API-Key": API_KEY}, timeout=10, **kwargs)

    def log_lines(self) -> list[dict]:
        log_file = self.process.log_file
        lines = log_file.read_text().splitlines() if log_file.exists() else []
        return [json.loads(line) for line in lines if line.startswith("{")]

    async def start(self) -> "StatusService":
        """Once it logged `ready`; raises with the log's tail if it exits or takes too long."""
        try:
            await asyncio.to_thread(self.process.start)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}:\n{self.process.log_file.read_text()[-3000:]}") from exc
        return self

    @asynccontextmanager
    async def running(self, stop: int = signal.SIGTERM) -> AsyncIterator["StatusService"]:
        """Started, and stopped with `stop` on the way out whatever happened inside (a service left running would
        take the next tests' events); its exit code is then `exit_code`, for the test to check after."""
        await self.start()
        try:
            yield self
        finally:
            self.exit_code = await self.stop(stop)

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
        """Its exit code: after SIGTERM (SIGKILL past the timeout), or after the signal given."""
        if sig == signal.SIGTERM:
            return await asyncio.to_thread(self.process.stop, timeout)
        self.process.signal(sig)
        return await asyncio.to_thread(self.process.wait, timeout)


async def status_of(http: httpx.AsyncClient, batch_id: UUID) -> BatchStatus | None:
    response = await http.get(STATUS.format(batch_id))
    return BatchStatus.model_validate(response.json()) if response.status_code == 200 else None


async def status_when(http: httpx.AsyncClient, batch_id: UUID, done: Callable[[BatchStatus], bool],
                      timeout: float = 30) -> BatchStatus:
    """The batch's status once `done` holds for it."""
    return await eventually(lambda: status_of(http, batch_id), lambda status: status is not None and done(status),
                            timeout)
