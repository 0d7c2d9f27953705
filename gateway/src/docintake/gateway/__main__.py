"""`docintake-gateway`: serve the public HTTP API."""

from docintake.gateway.bootstrap import create_app
from docintake.gateway.settings import GatewaySettings
from docintake.platform.logging import configure_logging
from docintake.platform.web import serve


def main() -> None:
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    serve(create_app(settings), settings.gateway_host, settings.gateway_port)


if __name__ == "__main__":
    main()
