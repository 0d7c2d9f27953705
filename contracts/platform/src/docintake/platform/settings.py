"""Settings read from DOCINTAKE_* environment variables: what every service needs to find the servers and to log."""

from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCINTAKE_", extra="ignore")

    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"

    minio_endpoint: str = "127.0.0.1:9000"
    minio_access_key: str = "docintake"
    minio_secret_key: str = "docintake-secret"
    minio_bucket: str = "docintake-uploads"
    minio_secure: bool = False

    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: str = "docintake-secret"
    neo4j_database: str = "neo4j"

    # Comma-separated list of accepted X-API-Key values, all of the tenant `default`; used when no tenants file is set.
    api_keys: str = "dev-key"
    # A JSON file of tenants and their keys, kept hashed (docintake.platform.tenants); re-read when it changes.
    tenants_file: str = ""
    # The key the services call one another's internal routes with (the status service's backlog and batch
    # finishes); none: the first of DOCINTAKE_API_KEYS.
    service_key: str = ""

    # Comma-separated host names, addresses and CIDR networks webhooks may call though they are not public
    # (private, loopback, link-local ...), e.g. "hooks.internal,10.1.0.0/16"; none: public addresses only.
    webhook_allowed_hosts: str = ""

    log_level: str = "INFO"

    # Comma-separated origins a browser may call the API from; none: CORS is off.
    cors_origins: str = ""

    # An OTLP/HTTP collector to send traces to, e.g. http://127.0.0.1:4318 (Jaeger, an OpenTelemetry
    # Collector); none: tracing is off and costs nothing.
    otlp_endpoint: str = ""
    # The share of traces kept, 0 to 1, chosen where a trace starts; the services after it follow that choice.
    trace_sample_ratio: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0

    @property
    def api_key_list(self) -> list[str]:
        return [key.strip() for key in self.api_keys.split(",") if key.strip()]

    @property
    def internal_key(self) -> str:
        return self.service_key or next(iter(self.api_key_list), "")

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]
