"""How the native scripts lay the services out on one machine."""

import subprocess

from deploy.native.services import ServiceProcess, system
from deploy.native.settings import DeploySettings
from tests.support.http import free_port


def test_every_service_of_a_scaled_out_system_listens_on_a_port_of_its_own():
    ports = {"DOCINTAKE_GATEWAY_PORT": "8000", "DOCINTAKE_STATUS_PORT": "8002"}
    services = system(DeploySettings(), ingestors=3, env=ports)
    metrics_ports = [int(s.env["DOCINTAKE_INGESTOR_METRICS_PORT"]) for s in services if s.name.startswith("ingestor")]
    assert len(metrics_ports) == 3
    assert len({*metrics_ports, 8000, 8002}) == 5


def test_metrics_switched_off_stay_off_for_every_ingestor():
    services = system(DeploySettings(), ingestors=2, env={"DOCINTAKE_INGESTOR_METRICS_PORT": "0"})
    assert [s.env["DOCINTAKE_INGESTOR_METRICS_PORT"] for s in services if s.name.startswith("ingestor")] == ["0", "0"]


def test_an_ingestor_with_a_port_is_ready_when_its_readiness_probe_answers():
    services = system(DeploySettings(), ingestors=2, env={"DOCINTAKE_INGESTOR_METRICS_PORT": "8101"})
    assert [s.ready_url for s in services if s.name.startswith("ingestor")] == [
        "http://127.0.0.1:8101/readyz", "http://127.0.0.1:8111/readyz"]


def test_a_running_service_that_does_not_answer_is_not_ready(tmp_path):
    with subprocess.Popen(["sleep", "30"]) as running:
        try:
            service = ServiceProcess("gateway", "docintake-gateway", tmp_path,
                                     ready_url=f"http://127.0.0.1:{free_port()}/readyz")
            service.pid_file.write_text(str(running.pid))
            assert service.pid() == running.pid
            assert service.ready() is False
        finally:
            running.kill()
