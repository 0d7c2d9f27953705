"""Settings read from DOCINTAKE_* environment variables, shared by every service and the native servers."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """What every part of docintake needs to find the servers and to log."""

    model_config = SettingsConfigDict(env_prefix="DOCINTAKE_", extra="ignore")

    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    rabbitmq_management_port: int = 15672

    minio_endpoint: str = "127.0.0.1:9000"
    minio_console_port: int = 9001
    minio_access_key: str = "docintake"
    minio_secret_key: str = "docintake-secret"
    minio_bucket: str = "docintake-uploads"
    minio_secure: bool = False

    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_http_port: int = 7474
    neo4j_user: str = "neo4j"
    neo4j_password: str = "docintake-secret"
    neo4j_database: str = "neo4j"

    # Comma-separated list of accepted X-API-Key values.
    api_keys: str = "dev-key"

    log_level: str = "INFO"

    # Where the native servers keep their data and where slow downloads and builds are cached.
    state_dir: Path = Path.home() / ".local" / "state" / "docintake"
    cache_dir: Path = Path.home() / ".cache" / "docintake"

    @property
    def api_key_list(self) -> list[str]:
        return [key.strip() for key in self.api_keys.split(",") if key.strip()]
