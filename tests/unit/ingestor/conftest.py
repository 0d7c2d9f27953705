"""Fixtures of the ingestor's unit tests."""

from pathlib import Path

import pytest


@pytest.fixture
def write(tmp_path: Path):
    """Write a file of the test's own making; its path."""
    def write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write
