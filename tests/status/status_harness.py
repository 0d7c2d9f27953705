"""Running the status service as a real process, and waiting for conditions."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar
from uuid import UUID

import httpx

from docintake.contracts.api import BatchStatus
from tests.support.http import free_port

API_KEY = "status-test-key"
STATUS = "/api/v1/documents/ingest/batch/{}/status"
T = TypeVar("T")


class ServiceProcess:
    """`python -m docintake.status` on a free port, its JSON log lines in a file."""

    def __init__(self, log_path: Path, **settings: object):
        self.port = free_port()
        self.log_path = log_path
        self.env = {
            **os.environ,
            "DOCINTAKE_STATUS_PORT": str(self.port),
            "DOCINTAKE_API_KEYS": API_KEY,
            "DOCINTAKE_SWEEP_INTERVAL_SECONDS": "0.5",
            **{f"DOCINTAKE_{name.upper()}": str(value) for name, value in settings.items()},
        }
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, headers={"X-API-Key": API_KEY}, timeout=10, **kwargs)

    def log_lines(self) -> list[dict]:
        lines = self.log_path.read_text().splitlines() if self.log_path.exists() else []
        return [json.loads(line) for line in lines if line.startswith("{")]

    async def start(self, timeout: float = 30) -> "ServiceProcess":
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "docintake.status"], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while not any(line.get("message") == "ready" for line in self.log_lines()):
            if self.process.poll() is not None:
                raise RuntimeError(f"status service exited with {self.process.returncode}:\n"
                                   + self.log_path.read_text()[-3000:])
            if time.monotonic() > deadline:
                raise TimeoutError("status service did not log ready:\n" + self.log_path.read_text()[-3000:])
            await asyncio.sleep(0.1)
        return self

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                self.process.kill()
                raise TimeoutError("status service did not stop in time")
            await asyncio.sleep(0.05)
        return self.process.returncode


async def eventually(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 15,
                     interval: float = 0.1) -> T:
    """Probe until `done` holds; fails with the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(interval)


async def status_of(http: httpx.AsyncClient, batch_id: UUID) -> BatchStatus | None:
    response = await http.get(STATUS.format(batch_id))
    return BatchStatus.model_validate(response.json()) if response.status_code == 200 else None


async def status_when(http: httpx.AsyncClient, batch_id: UUID, done: Callable[[BatchStatus], bool],
                      timeout: float = 30) -> BatchStatus:
    """The batch's status once `done` holds for it."""
    return await eventually(lambda: status_of(http, batch_id), lambda status: status is not None and done(status),
                            timeout)
