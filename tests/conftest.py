"""Fixtures shared by every test: the real servers, started once per session.

The tests run against servers of their own (deploy/native/isolated.py, or containers where a
Docker engine answers), never against the servers of a system that `make up` started.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from docintake.platform.messaging import declare_topology, make_broker
from docintake.platform.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # so tests can import tests.support and deploy.native

from deploy.native import isolated  # noqa: E402

isolated.use_isolated_servers()


def docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def start_containers() -> Settings:  # pragma: no cover - only where a Docker engine answers
    from testcontainers.minio import MinioContainer
    from testcontainers.neo4j import Neo4jContainer
    from testcontainers.rabbitmq import RabbitMqContainer

    rabbit = RabbitMqContainer("rabbitmq:3.13-management").start()
    minio = MinioContainer().start()
    neo4j = Neo4jContainer("neo4j:5.26-community").start()
    minio_config = minio.get_config()
    os.environ.update(
        DOCINTAKE_RABBITMQ_URL=f"amqp://guest:guest@{rabbit.get_container_host_ip()}:{rabbit.get_exposed_port(5672)}/",
        DOCINTAKE_MINIO_ENDPOINT=minio_config["endpoint"],
        DOCINTAKE_MINIO_ACCESS_KEY=minio_config["access_key"],
        DOCINTAKE_MINIO_SECRET_KEY=minio_config["secret_key"],
        DOCINTAKE_NEO4J_URI=neo4j.get_connection_url(),
        DOCINTAKE_NEO4J_PASSWORD=neo4j.password,
    )
    return Settings()


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Settings pointing at running servers: native ones by default, containers where Docker answers."""
    if os.environ.get("DOCINTAKE_TEST_SERVERS") != "native" and docker_answers():
        return start_containers()
    isolated.servers("start")
    return Settings()


@pytest.fixture(scope="session")
async def broker(settings):
    """A publisher of events, as the services would send them, on the declared topology."""
    rabbit = make_broker(settings.rabbitmq_url)
    await rabbit.connect()
    await declare_topology(rabbit)
    yield rabbit
    await rabbit.stop()
