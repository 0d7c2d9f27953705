"""`docintake-status`: run the status service (projection, periodic chores and HTTP API) under uvicorn."""

import signal
import socket
from types import FrameType

import uvicorn

from docintake.contracts.logging import configure_logging, get_logger
from docintake.status.app import create_app
from docintake.status.settings import StatusSettings

log = get_logger("docintake.status")

GRACEFUL_SHUTDOWN_SECONDS = 10


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            log.info("ready", host=self.config.host, port=self.config.port)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main() -> None:
    settings = StatusSettings()
    configure_logging("status", settings.log_level)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again for the handler it
    # found installed; this one turns that into exit code 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.status_host,
        port=settings.status_port,
        log_config=None,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    _Server(config).run()


if __name__ == "__main__":
    main()
