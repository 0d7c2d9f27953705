"""`docintake sync` and `docintake delete` against the running system: only what changed is uploaded,
what is gone is deleted with --prune, and a deleted collection is empty."""

import hashlib
import json
from pathlib import Path
from uuid import uuid4

from docintake.platform.graphdb import open_driver
from tests.e2e.test_cli import run


async def sources_of(settings, collection: str) -> dict[str, str]:
    driver = open_driver(settings)
    try:
        records, _, _ = await driver.execute_query(
            "MATCH (s:Source {collection: $collection})-[:CURRENT]->(d:Document) "
            "RETURN s.path AS path, d.sha256 AS sha", collection=collection)
    finally:
        await driver.close()
    return {record["path"]: record["sha"] for record in records}


def write(folder: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)


def sync(running_system, tmp_path: Path, *args: str):
    return run(running_system, *args, "--metadata", str(tmp_path / "metadata.csv"))


def a_synced_folder(running_system, tmp_path: Path) -> tuple[Path, str, str]:
    """A collection ingested from a folder, then the folder edited: one file new, one changed, one the
    same, one removed. Its collection and the run's mark."""
    mark = uuid4().hex[:10]
    collection, folder = f"sync-{mark}", tmp_path / "handbook"
    (tmp_path / "metadata.csv").write_text("filename,author\n" + "".join(
        f"{name},Sync {mark}\n" for name in ("same.txt", "edited.txt", "gone.txt", "fresh.txt")))
    write(folder, {name: f"{name} {mark} first. ".encode() * 20
                   for name in ("same.txt", "guide/edited.txt", "gone.txt")})
    ingested = sync(running_system, tmp_path, "ingest", str(folder), "--collection", collection, "--wait")
    assert ingested.returncode == 0, ingested.stderr + ingested.stdout
    write(folder, {"guide/edited.txt": f"edited {mark} second. ".encode() * 20,
                   "fresh.txt": f"fresh {mark}. ".encode() * 20})
    (folder / "gone.txt").unlink()
    return folder, collection, mark


async def test_sync_uploads_the_new_and_changed_files_in_one_batch_and_prune_deletes_the_gone(
        running_system, settings, tmp_path):
    folder, collection, _ = a_synced_folder(running_system, tmp_path)

    result = sync(running_system, tmp_path, "--json", "sync", str(folder), "--collection", collection, "--prune")

    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert (report["new"], report["changed"], report["unchanged"], report["absent"]) == (
        ["fresh.txt"], ["guide/edited.txt"], ["same.txt"], ["gone.txt"])
    [batch] = report["batches"]
    assert batch["status"] == "completed" and batch["total_documents"] == 2
    assert sorted(d["source_path"] for d in batch["documents"]) == ["fresh.txt", "guide/edited.txt"]
    [deletion] = report["deletions"]
    assert deletion["status"] == "completed" and deletion["removed_count"] == 1
    assert await sources_of(settings, collection) == {
        path: hashlib.sha256((folder / path).read_bytes()).hexdigest()
        for path in ("same.txt", "guide/edited.txt", "fresh.txt")}


async def test_without_prune_sync_says_what_is_absent_and_deletes_nothing(running_system, settings, tmp_path):
    folder, collection, _ = a_synced_folder(running_system, tmp_path)

    first = sync(running_system, tmp_path, "sync", str(folder), "--collection", collection)
    again = sync(running_system, tmp_path, "--json", "sync", str(folder), "--collection", collection)

    assert first.returncode == 0, first.stderr + first.stdout
    assert "1 new, 1 changed, 1 unchanged, 1 absent" in first.stdout
    assert "1 source(s) of the collection are no longer in the folder" in first.stdout
    assert "gone.txt" in await sources_of(settings, collection)
    report = json.loads(again.stdout)
    assert report["batches"] == [] and report["deletions"] == [] and report["new"] == report["changed"] == []


async def test_delete_of_a_collection_leaves_it_empty_and_a_sync_then_finds_everything_new(
        running_system, settings, tmp_path):
    folder, collection, _ = a_synced_folder(running_system, tmp_path)
    assert await sources_of(settings, collection)

    result = run(running_system, "--json", "delete", "--collection", collection, "--yes")

    assert result.returncode == 0, result.stderr + result.stdout
    [deletion] = json.loads(result.stdout)["deletions"]
    assert deletion["status"] == "completed" and deletion["removed_count"] == 3
    assert await sources_of(settings, collection) == {}
    async with running_system.client() as api:
        answer = await api.post(f"/api/v1/collections/{collection}/sync", json={"sources": [
            {"path": "same.txt", "sha256": "0" * 64, "size": 1}]})
    assert answer.json() == {"collection": collection, "new": ["same.txt"], "changed": [], "unchanged": [],
                             "absent": []}


async def test_delete_of_named_sources_removes_only_those(running_system, settings, tmp_path):
    _, collection, _ = a_synced_folder(running_system, tmp_path)

    result = run(running_system, "delete", "--collection", collection, "same.txt")

    assert result.returncode == 0, result.stderr + result.stdout
    assert "1 removed, 0 failed" in result.stdout
    assert sorted(await sources_of(settings, collection)) == ["gone.txt", "guide/edited.txt"]
