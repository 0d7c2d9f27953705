"""`docintake-ingestor`: consume queued documents until SIGTERM.

Every parser process imports this module again (multiprocessing prepares a child by importing its parent's main
module), so it imports nothing at its top: the broker, graph and web libraries stay in this process alone."""


def main() -> None:
    import asyncio

    from docintake.ingestor.bootstrap import build_app
    from docintake.ingestor.settings import IngestorSettings
    from docintake.platform.logging import configure_logging

    settings = IngestorSettings()
    configure_logging("ingestor", settings.log_level)
    asyncio.run(build_app(settings).run())


if __name__ == "__main__":
    main()
