"""`docintake-status`: run the status service (projection, periodic sweeper and HTTP API)."""

from docintake.platform.logging import configure_logging
from docintake.platform.web import serve
from docintake.status.entrypoints.fastapi_app import create_app
from docintake.status.settings import StatusSettings


def main() -> None:
    settings = StatusSettings()
    configure_logging("status", settings.log_level)
    serve(create_app(settings), settings.status_host, settings.status_port)


if __name__ == "__main__":
    main()
