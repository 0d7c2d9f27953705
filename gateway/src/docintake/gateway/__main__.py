"""`docintake-gateway`: serve the public HTTP API."""

import uvicorn

from docintake.contracts.logging import configure_logging
from docintake.gateway.app import create_app
from docintake.gateway.settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_config=None,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
