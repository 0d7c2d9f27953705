import os
from pathlib import Path

from docintake.platform.settings import Settings

MiB = 1024 * 1024


class IngestorSettings(Settings):
    workers: int = os.cpu_count() or 2
    prefetch: int = 0  # 0: twice the workers plus two, so the pool never waits on the broker
    chunk_size: int = 1000
    chunk_overlap: int = 150
    # Comma-separated metadata fields every document must have, e.g. "author,department".
    required_metadata: str = ""
    parse_timeout_seconds: float = 120.0
    max_expanded_bytes: int = 256 * MiB
    retry_backoff_max_seconds: float = 30.0
    # /healthz, /readyz and Prometheus /metrics; port 0: none. Each ingestor on a machine needs its
    # own port: one whose port is taken runs on without them.
    ingestor_host: str = "127.0.0.1"
    ingestor_metrics_port: int = 8001
    work_dir: Path = Path(os.environ.get("TMPDIR", "/tmp")) / "docintake-ingestor"

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(field.strip() for field in self.required_metadata.split(",") if field.strip())

    @property
    def effective_prefetch(self) -> int:
        return self.prefetch or self.workers * 2 + 2
