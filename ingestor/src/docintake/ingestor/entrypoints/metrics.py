"""The ingestor's Prometheus metrics, served over HTTP on loopback."""

from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, start_http_server

from docintake.platform.logging import get_logger

log = get_logger(__name__)

DOCUMENTS = Counter("docintake_ingestor_documents_total", "Documents handled by outcome", ["outcome"])
RETRIES = Counter("docintake_ingestor_retries_total", "Transient failures that led to a retry", ["code"])


def serve(port: int) -> WSGIServer | None:
    """Serve /metrics on 127.0.0.1:`port` from a thread; None when `port` is 0 or already taken.

    Metrics are worth less than documents, so a taken port (another ingestor on this machine
    with the same setting) is a warning, not a reason to stop.
    """
    if not port:
        return None
    try:
        server, _ = start_http_server(port, addr="127.0.0.1")
    except OSError as exc:
        log.warning("metrics port unavailable; running without metrics", port=port, error=str(exc))
        return None
    log.info("metrics served", url=f"http://127.0.0.1:{port}/metrics")
    return server
