"""The ingestor's probes and metrics endpoint: served on a free port, skipped with a warning on a taken one."""

import asyncio
import json
import socket
import urllib.error
import urllib.request

from structlog.testing import capture_logs

from docintake.ingestor.entrypoints import metrics, probes
from tests.support.http import free_port

assert metrics.DOCUMENTS  # the ingestor's counters are registered by importing them


async def get(port: int, path: str) -> tuple[int, str]:
    def fetch() -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
    return await asyncio.to_thread(fetch)


def serving(checks: probes.Checks) -> tuple[int, object]:
    port = free_port()
    return port, probes.serve("127.0.0.1", port, checks)


async def all_answer() -> dict[str, bool]:
    return {"broker": True, "storage": True, "graph": True}


async def test_metrics_and_liveness_are_served_on_loopback():
    port, server = serving(all_answer)
    try:
        status, text = await get(port, "/metrics")
        assert status == 200 and "docintake_ingestor_documents_total" in text
        assert await get(port, "/healthz") == (200, '{"status": "ok"}')
    finally:
        server.shutdown()


async def test_ready_only_while_every_check_answers():
    answering = {"broker": True, "storage": True, "graph": True}

    async def checks() -> dict[str, bool]:
        return dict(answering)

    port, server = serving(checks)
    try:
        status, body = await get(port, "/readyz")
        assert status == 200 and json.loads(body) == {"ready": True, "checks": answering}
        answering["graph"] = False
        status, body = await get(port, "/readyz")
        assert status == 503 and json.loads(body)["checks"]["graph"] is False
    finally:
        server.shutdown()


async def test_checks_that_never_answer_are_not_ready(monkeypatch):
    async def hangs() -> dict[str, bool]:
        await asyncio.sleep(3600)
        return {}

    monkeypatch.setattr(probes, "READINESS_TIMEOUT_SECONDS", 0.2)
    port, server = serving(hangs)
    try:
        status, body = await get(port, "/readyz")
        assert status == 503 and json.loads(body)["ready"] is False
    finally:
        server.shutdown()


async def test_an_unknown_path_is_404_in_the_error_format():
    port, server = serving(all_answer)
    try:
        status, body = await get(port, "/nothing")
        assert status == 404 and json.loads(body)["error"]["code"] == "NOT_FOUND"
    finally:
        server.shutdown()


async def test_port_zero_serves_nothing():
    assert probes.serve("127.0.0.1", 0, all_answer) is None


async def test_a_taken_port_is_a_warning_not_a_failure():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with capture_logs() as logs:
            assert probes.serve("127.0.0.1", port, all_answer) is None

    assert [entry["log_level"] for entry in logs] == ["warning"] and logs[0]["port"] == port
