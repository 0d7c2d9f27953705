"""The `docintake` command line against the running system."""

import csv
import json
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

from docintake.platform.graphdb import open_driver
from tests.support import documents

CLI = str(Path(sys.executable).parent / "docintake")


def run(system, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "--url", system.base_url, "--api-key", "dev-key", *args],
        capture_output=True, text=True, timeout=300,
    )


def write_folder(folder: Path, names_and_contents) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for name, content in names_and_contents:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
        names.append(Path(name).name)
    mapping = folder.parent / f"{folder.name}-metadata.csv"
    with mapping.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["filename", "author", "tags"])
        writer.writerows([name, "CLI", "cli, test"] for name in names)
    return mapping


def test_a_folder_of_150_files_becomes_two_batches_that_all_complete(running_system, tmp_path):
    folder = tmp_path / "library"
    mapping = write_folder(folder, (
        (f"{'nested/' if i % 10 == 0 else ''}note-{i}.txt", f"CLI note {i} {tmp_path}. ".encode() * 20)
        for i in range(150)
    ))
    result = run(running_system, "--json", "ingest", str(folder), "--metadata", str(mapping), "--wait")
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    batches = report["batches"]
    assert sorted(b["total_documents"] for b in batches) == [50, 100]
    assert all(b["status"] == "completed" and b["processed_count"] == b["total_documents"] for b in batches)


def test_a_failing_document_gives_a_non_zero_exit_and_its_error(running_system, tmp_path):
    folder = tmp_path / "mixed"
    mapping = write_folder(folder, [("good.txt", f"Good {tmp_path}".encode() * 10),
                                    ("broken.pdf", documents.truncated_pdf())])
    result = run(running_system, "ingest", str(folder), "--metadata", str(mapping), "--wait")
    assert result.returncode == 1, result.stdout
    assert "broken.pdf" in result.stdout and "1 ingested, 0 unchanged, 1 failed" in result.stdout


def test_status_batches_and_json_output_parse(running_system, tmp_path):
    folder = tmp_path / "one"
    mapping = write_folder(folder, [("one.txt", f"One {tmp_path}".encode() * 10)])
    accepted = json.loads(run(running_system, "--json", "ingest", str(folder), "--metadata", str(mapping)).stdout)
    batch_id = accepted["batches"][0]["batch_id"]
    status = json.loads(run(running_system, "--json", "status", batch_id).stdout)
    assert status["batch_id"] == batch_id and status["total_documents"] == 1
    listing = json.loads(run(running_system, "--json", "batches").stdout)
    assert batch_id in [b["batch_id"] for b in listing["batches"]]
    everything = json.loads(run(running_system, "--json", "batches", "--all").stdout)
    every_id = [b["batch_id"] for b in everything["batches"]]
    assert everything["next_cursor"] is None and len(every_id) == len(set(every_id)) >= len(listing["batches"])
    missing = run(running_system, "status", "00000000-0000-4000-8000-000000000000")
    assert missing.returncode == 2 and "BATCH_NOT_FOUND" in missing.stderr


async def sources_of(settings, collection: str) -> dict[str, str]:
    """Each source of the collection and the text of its current version."""
    driver = open_driver(settings)
    try:
        records, _, _ = await driver.execute_query(
            "MATCH (s:Source {collection: $collection})-[:CURRENT]->(d:Document)<-[:PART_OF]-(c:Chunk) "
            "WITH s, c ORDER BY c.index RETURN s.path AS path, collect(c.text) AS texts", collection=collection)
    finally:
        await driver.close()
    return {record["path"]: " ".join(record["texts"]) for record in records}


async def test_a_folder_ingested_again_after_an_edit_updates_that_file_and_leaves_the_rest_unchanged(
    running_system, tmp_path, settings
):
    folder, collection = tmp_path / "handbook", f"handbook-{uuid4().hex[:12]}"
    contents = {"setup/install.md": f"Install it like this, {tmp_path}. ".encode() * 20,
                "intro.md": f"An introduction, {tmp_path}. ".encode() * 20}
    mapping = write_folder(folder, contents.items())
    ingest = ("--json", "ingest", str(folder), "--collection", collection, "--metadata", str(mapping), "--wait")
    first = run(running_system, *ingest)
    assert first.returncode == 0, first.stderr + first.stdout
    (folder / "setup" / "install.md").write_bytes(f"Install it the new way, {tmp_path}. ".encode() * 20)

    second = run(running_system, *ingest)

    assert second.returncode == 0, second.stderr + second.stdout
    [batch] = json.loads(second.stdout)["batches"]
    assert (batch["status"], batch["processed_count"], batch["unchanged_count"]) == ("completed", 1, 1)
    assert {(d["source_path"], d["collection"], d["outcome"]) for d in batch["documents"]} == {
        ("setup/install.md", collection, "updated"), ("intro.md", collection, "unchanged")}
    assert {d["filename"] for d in batch["documents"]} == {"install.md", "intro.md"}
    sources = await sources_of(settings, collection)
    assert set(sources) == {"setup/install.md", "intro.md"}
    assert "the new way" in sources["setup/install.md"] and "like this" not in sources["setup/install.md"]
