"""Drive batches through the public HTTP API, as the original story's tests do."""

import asyncio
import csv
import io
import time

INGEST = "/api/v1/documents/ingest"
COLLECTIONS, DELETIONS = "/api/v1/collections", "/api/v1/deletions"
TERMINAL = {"completed", "partial_failure", "failed", "cancelled"}


def csv_mapping(rows: dict[str, dict[str, str]]) -> tuple[str, tuple[str, bytes, str]]:
    columns = sorted({column for metadata in rows.values() for column in metadata})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["filename", *columns])
    for filename, metadata in rows.items():
        writer.writerow([filename, *(metadata.get(column, "") for column in columns)])
    return ("metadata_mapping", ("metadata.csv", out.getvalue().encode(), "text/csv"))


async def upload(api, documents: list[tuple[str, bytes]], mapping=None) -> dict:
    files = [("files", (name, content, "application/octet-stream")) for name, content in documents]
    response = await api.post(f"{INGEST}/batch", files=files + ([mapping] if mapping else []))
    assert response.status_code == 202, response.text
    return response.json()


async def status(api, batch_id: str) -> dict:
    response = await api.get(f"{INGEST}/batch/{batch_id}/status")
    assert response.status_code == 200, response.text
    return response.json()


async def wait_until_finished(api, batch_id: str, timeout: float = 120) -> tuple[dict, list[dict]]:
    """The final status, and every distinct status seen on the way."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = await status(api, batch_id)
        if not seen or current != seen[-1]:
            seen.append(current)
        if current["status"] in TERMINAL:
            return current, seen
        await asyncio.sleep(0.2)
    raise AssertionError(f"batch {batch_id} not finished within {timeout}s: {seen[-1] if seen else None}")


async def finished_deletion(api, answer, timeout: float = 60) -> dict:
    """The final status of the deletion a DELETE answered with."""
    assert answer.status_code == 202, answer.text
    deletion_id = answer.json()["deletion_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await api.get(f"{DELETIONS}/{deletion_id}")
        assert response.status_code == 200, response.text
        if response.json()["status"] != "in_progress":
            return response.json()
        await asyncio.sleep(0.2)
    raise AssertionError(f"deletion {deletion_id} did not finish")
