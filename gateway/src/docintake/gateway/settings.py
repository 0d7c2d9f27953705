from docintake.gateway.domain.limits import BatchLimits, MiB
from docintake.gateway.domain.quotas import Allowance
from docintake.platform.settings import Settings
from docintake.platform.tenants import Tenant


class GatewaySettings(Settings):
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    max_files: int = 100
    max_file_bytes: int = 512 * MiB
    max_mapping_bytes: int = 5 * MiB
    max_pending_bytes: int = 5 * 1024 * MiB
    backlog_retry_after_seconds: int = 30
    # The part of max_pending_bytes one tenant's pending bytes may take, so that others still get in (1: all).
    tenant_backlog_share: float = 0.5
    # Requests a second one tenant may make to each gateway (0: no limit); a tenant's requests_per_second overrides.
    tenant_requests_per_second: float = 0.0
    # Bytes one tenant may upload per day, UTC (0: no limit); a tenant's upload_bytes_per_day overrides.
    tenant_upload_bytes_per_day: int = 0
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

    def allowance(self, tenant: Tenant | None) -> Allowance:
        """What a tenant may have pending and upload, with its own figures where the tenants file gives them."""
        per_day = tenant.upload_bytes_per_day if tenant and tenant.upload_bytes_per_day is not None \
            else self.tenant_upload_bytes_per_day
        return Allowance(self.max_pending_bytes, self.tenant_backlog_share, per_day, self.backlog_retry_after_seconds)

    def request_rate(self, tenant: Tenant | None) -> float:
        return tenant.requests_per_second if tenant and tenant.requests_per_second is not None \
            else self.tenant_requests_per_second

    @property
    def batch_limits(self) -> BatchLimits:
        return BatchLimits(self.max_files, self.max_file_bytes, self.max_mapping_bytes)
