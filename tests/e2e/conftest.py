"""The whole system as real processes, driven only through the public HTTP API."""

import pytest

from deploy.native.services import system
from tests.support.http import client, free_port

REQUIRED_METADATA = "author"


class System:
    def __init__(self, settings, run_dir, ingestors: int = 1, env: dict[str, str] | None = None):
        self.gateway_port, self.status_port = free_port(), free_port()
        self.env = {
            "DOCINTAKE_GATEWAY_PORT": str(self.gateway_port),
            "DOCINTAKE_STATUS_PORT": str(self.status_port),
            "DOCINTAKE_REQUIRED_METADATA": REQUIRED_METADATA,
            "DOCINTAKE_STALL_TIMEOUT_SECONDS": "300",
            **(env or {}),
        }
        self.processes = system(settings, ingestors, self.env, run_dir)
        self.base_url = f"http://127.0.0.1:{self.gateway_port}"

    def process(self, name: str):
        return next(p for p in self.processes if p.name == name)

    def start(self) -> "System":
        for process in self.processes:
            process.start()
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def client(self):
        return client(self.base_url)


@pytest.fixture(scope="module")
def system_env() -> dict[str, str]:
    """Settings of the module's system beside the defaults: a module that needs others overrides this fixture."""
    return {}


@pytest.fixture(scope="module")
def running_system(settings, tmp_path_factory, system_env):
    running = System(settings, tmp_path_factory.mktemp("system"), env=system_env).start()
    yield running
    running.stop()


@pytest.fixture
async def api(running_system):
    async with running_system.client() as http:
        yield http
