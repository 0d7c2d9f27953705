"""The ingestor's metrics endpoint: served on a free port, skipped with a warning on a taken one."""

import socket
import urllib.request

from structlog.testing import capture_logs

from docintake.ingestor.entrypoints import metrics
from tests.support.http import free_port


def test_metrics_are_served_on_loopback():
    port = free_port()
    server = metrics.serve(port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert "docintake_ingestor_documents_total" in response.read().decode()
    finally:
        server.shutdown()
        server.server_close()


def test_port_zero_serves_nothing():
    assert metrics.serve(0) is None


def test_a_taken_port_is_a_warning_not_a_failure():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with capture_logs() as logs:
            assert metrics.serve(port) is None

    assert [entry["log_level"] for entry in logs] == ["warning"] and logs[0]["port"] == port
