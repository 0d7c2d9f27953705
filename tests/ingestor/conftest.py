import pytest

from deploy.native.services import ServiceProcess
from docintake.platform.graphdb import open_driver
from docintake.platform.storage import ObjectStore
from tests.support.http import free_port


@pytest.fixture(scope="module")
def ingestor(settings, tmp_path_factory):
    port = free_port()
    process = ServiceProcess("ingestor", "docintake-ingestor", tmp_path_factory.mktemp("ingestor"),
                             env={"DOCINTAKE_PARSE_TIMEOUT_SECONDS": "20",
                                  "DOCINTAKE_INGESTOR_METRICS_PORT": str(port)},
                             ready_url=f"http://127.0.0.1:{port}/readyz")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def store(settings) -> ObjectStore:
    return ObjectStore(settings)


@pytest.fixture
async def graph(settings):
    driver = open_driver(settings)
    yield driver
    await driver.close()
