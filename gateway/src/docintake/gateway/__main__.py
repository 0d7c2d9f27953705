"""`docintake-gateway`: serve the public HTTP API."""

from docintake.contracts.logging import configure_logging
from docintake.contracts.web import serve
from docintake.gateway.app import create_app
from docintake.gateway.settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    serve(create_app(settings), settings.gateway_host, settings.gateway_port)


if __name__ == "__main__":
    main()
