"""`docintake-ingestor`: consume queued documents until SIGTERM."""

import asyncio

from docintake.ingestor.bootstrap import build_app
from docintake.ingestor.settings import IngestorSettings
from docintake.platform.logging import configure_logging


def main() -> None:
    settings = IngestorSettings()
    configure_logging("ingestor", settings.log_level)
    asyncio.run(build_app(settings).run())


if __name__ == "__main__":
    main()
