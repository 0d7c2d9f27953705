"""How the native scripts lay the services out on one machine."""

from deploy.native.services import system
from deploy.native.settings import DeploySettings


def test_every_service_of_a_scaled_out_system_listens_on_a_port_of_its_own():
    ports = {"DOCINTAKE_GATEWAY_PORT": "8000", "DOCINTAKE_STATUS_PORT": "8002"}
    services = system(DeploySettings(), ingestors=3, env=ports)
    metrics_ports = [int(s.env["DOCINTAKE_INGESTOR_METRICS_PORT"]) for s in services if s.name.startswith("ingestor")]
    assert len(metrics_ports) == 3
    assert len({*metrics_ports, 8000, 8002}) == 5


def test_metrics_switched_off_stay_off_for_every_ingestor():
    services = system(DeploySettings(), ingestors=2, env={"DOCINTAKE_INGESTOR_METRICS_PORT": "0"})
    assert [s.env["DOCINTAKE_INGESTOR_METRICS_PORT"] for s in services if s.name.startswith("ingestor")] == ["0", "0"]
