"""Each service starts against the real servers, reports ready, and exits 0 on SIGTERM."""

import json

import pytest

from deploy.native.services import ServiceProcess
from tests.support.http import free_port


@pytest.mark.parametrize("script", ["docintake-gateway", "docintake-ingestor", "docintake-status"])
def test_service_starts_reports_ready_and_stops_cleanly_on_sigterm(settings, tmp_path, script):
    port = str(free_port())
    service = ServiceProcess(
        script.removeprefix("docintake-"), script, tmp_path,
        env={"DOCINTAKE_GATEWAY_PORT": port, "DOCINTAKE_STATUS_PORT": port, "DOCINTAKE_STATUS_URL": "http://127.0.0.1:9"},
    )
    service.start()
    try:
        assert service.ready()
    finally:
        exit_code = service.stop()
    assert exit_code == 0
    lines = [json.loads(line) for line in service.log_file.read_text().splitlines() if line.startswith("{")]
    assert any(line["message"] == "ready" for line in lines)
    assert all("batch_id" in line and "document_id" in line for line in lines)
