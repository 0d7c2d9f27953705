"""What only the native scripts need, beside the services' own settings: ports the services never
dial, and where server data and slow downloads live."""

from pathlib import Path

from docintake.platform.settings import Settings


class DeploySettings(Settings):
    rabbitmq_management_port: int = 15672
    minio_console_port: int = 9001
    neo4j_http_port: int = 7474

    # Where the native servers keep their data and logs, and where downloads and builds are cached.
    state_dir: Path = Path.home() / ".local" / "state" / "docintake"
    cache_dir: Path = Path.home() / ".cache" / "docintake"
