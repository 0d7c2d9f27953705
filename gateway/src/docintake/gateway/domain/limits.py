from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class BatchLimits:
    """How much one batch upload may hold."""

    max_files: int = 100
    max_file_bytes: int = 512 * MiB
    max_mapping_bytes: int = 5 * MiB
