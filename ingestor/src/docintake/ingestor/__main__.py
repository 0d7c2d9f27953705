"""`docintake-ingestor`: consume queued documents until SIGTERM."""

import asyncio

from docintake.ingestor.app import create_app
from docintake.ingestor.settings import IngestorSettings
from docintake.platform.logging import configure_logging


def main() -> None:
    settings = IngestorSettings()
    configure_logging("ingestor", settings.log_level)
    app, _ = create_app(settings)
    asyncio.run(app.run())


if __name__ == "__main__":
    main()
