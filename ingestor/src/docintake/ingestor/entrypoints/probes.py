"""The ingestor's HTTP side, served from a thread on its own port: liveness (/healthz: the process
answers), readiness (/readyz: its broker, storage and graph answer) and Prometheus /metrics.

Probes are worth less than documents, so a taken port (another ingestor on this machine with the
same setting) is a warning, not a reason to stop.
"""

import asyncio
import json
import threading
from collections.abc import Callable, Coroutine, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

from docintake.platform.logging import get_logger

log = get_logger(__name__)

READINESS_TIMEOUT_SECONDS = 3.0

Checks = Callable[[], Coroutine[Any, Any, dict[str, bool]]]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def probes_app(checks: Checks, loop: asyncio.AbstractEventLoop) -> Callable[..., Iterable[bytes]]:
    """The WSGI app; readiness runs `checks` on the ingestor's event loop and waits for them."""
    metrics = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def answer(status: str, body: dict[str, Any]) -> Iterable[bytes]:
            start_response(status, [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]

        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics(environ, start_response)
        if path == "/healthz":
            return answer("200 OK", {"status": "ok"})
        if path == "/readyz":
            pending = asyncio.run_coroutine_threadsafe(checks(), loop)
            try:
                results = pending.result(READINESS_TIMEOUT_SECONDS)
            except Exception:  # noqa: BLE001 - checks that cannot answer mean not ready
                pending.cancel()
                results = {"answered": False}
            ready = all(results.values())
            return answer("200 OK" if ready else "503 Service Unavailable", {"ready": ready, "checks": results})
        return answer("404 Not Found", {"error": {"code": "NOT_FOUND", "message": f"No endpoint at {path}"}})

    return app


def serve(host: str, port: int, checks: Checks) -> WSGIServer | None:
    """Serve the probes and metrics from a thread; None when `port` is 0 or already taken.

    Call it on the event loop the checks must run on."""
    if not port:
        return None
    try:
        server = make_server(host, port, probes_app(checks, asyncio.get_running_loop()),
                             server_class=_Server, handler_class=_QuietHandler)
    except OSError as exc:
        log.warning("port unavailable; running without probes and metrics", port=port, error=str(exc))
        return None
    threading.Thread(target=server.serve_forever, name="probes", daemon=True).start()
    log.info("probes and metrics served", url=f"http://{host}:{port}/")
    return server
