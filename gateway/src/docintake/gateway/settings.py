from docintake.gateway.domain.limits import BatchLimits, MiB
from docintake.platform.settings import Settings


class GatewaySettings(Settings):
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    max_files: int = 100
    max_file_bytes: int = 512 * MiB
    max_mapping_bytes: int = 5 * MiB
    max_pending_bytes: int = 5 * 1024 * MiB
    backlog_retry_after_seconds: int = 30
    status_url: str = "http://127.0.0.1:8002"
    # An upload that sends nothing for this long is cut off (408); nothing of it is kept.
    body_idle_timeout_seconds: float = 30.0
    # Live progress streams forwarded at once, per API key and in all; more get 429.
    max_streams_per_key: int = 20
    max_streams: int = 200
    # How long a request sent again with the same Idempotency-Key gets the first answer back.
    idempotency_key_lifetime_hours: float = 24.0
    # A batch's raw uploads are deleted this many days after it finished (0: kept); a retry after that fails.
    upload_retention_days: int = 7
    # The objects of an upload that never ended (its batch never announced) are removed once untouched this long.
    unfinished_upload_max_age_hours: float = 6.0
    # How often each gateway looks for uploads that never ended.
    reap_interval_seconds: float = 600.0

    @property
    def batch_limits(self) -> BatchLimits:
        return BatchLimits(self.max_files, self.max_file_bytes, self.max_mapping_bytes)
