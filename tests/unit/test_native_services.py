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


def test_several_gateways_and_status_services_each_get_a_port_and_gateway_n_asks_status_service_n():
    ports = {"DOCINTAKE_GATEWAY_PORT": "8000", "DOCINTAKE_STATUS_PORT": "8002",
             "DOCINTAKE_INGESTOR_METRICS_PORT": "8001"}
    services = system(DeploySettings(), ingestors=3, env=ports, gateways=2, status_services=2)
    assert [s.name for s in services] == [
        "status-1", "status-2", "ingestor-1", "ingestor-2", "ingestor-3", "gateway-1", "gateway-2"]
    listening = [s.ready_url for s in services]
    assert len(set(listening)) == 7
    by_name = {s.name: s for s in services}
    assert [by_name[f"status-{n}"].env["DOCINTAKE_STATUS_PORT"] for n in (1, 2)] == ["8002", "8012"]
    assert [by_name[f"gateway-{n}"].env["DOCINTAKE_GATEWAY_PORT"] for n in (1, 2)] == ["8000", "8010"]
    assert [by_name[f"gateway-{n}"].env["DOCINTAKE_STATUS_URL"] for n in (1, 2)] == [
        "http://127.0.0.1:8002", "http://127.0.0.1:8012"]


def test_one_of_a_kind_keeps_its_plain_name():
    assert [s.name for s in system(DeploySettings(), ingestors=1)] == ["status", "ingestor-1", "gateway"]
