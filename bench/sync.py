"""Sync benchmark: `docintake sync` of a folder in which a few files changed, beside a full re-ingest.

    .venv/bin/python -m deploy.native.isolated .venv/bin/python bench/sync.py [--files 2000] [--changed 20]

Starts the three services as their own processes (against the servers of DOCINTAKE_*, on ports of
their own), writes N small text files under folders and ingests them with `docintake ingest --wait`
into a fresh collection. Then, twice, changes `--changed` of the files: the first time re-ingests the
whole folder (`docintake ingest --wait`), the second time syncs it (`docintake sync`, which waits
too); each is timed from the command's start to its end, as a user sees it. Bytes uploaded: the
content of the files each sends, and for sync also its list (the JSON body asking what changed, as
the command sends it: gzip); multipart framing is not counted in either. Prints the figures; asserts nothing.
"""

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.native.services import system  # noqa: E402
from docintake.cli.main import sha256_of, walk  # noqa: E402
from docintake.platform.settings import Settings  # noqa: E402
from tests.support.http import free_port  # noqa: E402

CLI = str(Path(sys.executable).parent / "docintake")


def write_files(folder: Path, n: int, run: str) -> list[Path]:
    files = []
    for i in range(n):
        path = folder / f"part-{i // 100}" / f"note-{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Note {i} of {run}.\n\n" + f"A line about topic {i} in run {run}. " * 30 + "\n")
        files.append(path)
    return files


def change(files: list[Path], count: int, round_: str) -> None:
    for path in files[:count]:
        path.write_text(path.read_text() + f"\nEdited in round {round_}.\n")


def cli(base_url: str, api_key: str, *args: str) -> tuple[float, dict]:
    started = time.perf_counter()
    result = subprocess.run([CLI, "--url", base_url, "--api-key", api_key, "--json", *args],
                            capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"docintake {' '.join(args)} exited {result.returncode}: "
                         f"{result.stderr}{result.stdout[-2000:]}")
    return elapsed, json.loads(result.stdout)


def sync_list_bytes(folder: Path) -> tuple[int, int]:
    """The sync list's body as `docintake sync` sends it (gzip), and its size uncompressed."""
    listed = [{"path": f.path, "sha256": sha256_of(f.file), "size": f.file.stat().st_size}
              for f in walk([folder], set())]
    body = json.dumps({"sources": listed}).encode()
    return len(gzip.compress(body, compresslevel=6)), len(body)


def main(arguments: argparse.Namespace) -> None:
    settings = Settings()
    api_key = settings.api_key_list[0]
    gateway_port, status_port = free_port(), free_port()
    work = Path(tempfile.mkdtemp(prefix="docintake-bench-sync-"))
    services = system(settings, arguments.ingestors, env={
        "DOCINTAKE_GATEWAY_PORT": str(gateway_port), "DOCINTAKE_STATUS_PORT": str(status_port),
        "DOCINTAKE_INGESTOR_METRICS_PORT": "0",
    }, run_dir=work / "run")
    base_url = f"http://127.0.0.1:{gateway_port}"
    run = uuid4().hex[:8]
    collection, folder = f"bench-sync-{run}", work / "folder"
    files = write_files(folder, arguments.files, run)
    mapping = work / "metadata.csv"
    mapping.write_text("filename,author\n" + "".join(f"{p.name},Bench {run}\n" for p in files))
    common = ["--collection", collection, "--metadata", str(mapping)]
    try:
        for service in services:
            service.start()
        first, _ = cli(base_url, api_key, "ingest", str(folder), *common, "--wait")
        print(f"first ingest of {len(files)} files: {first:.1f} s")

        change(files, arguments.changed, "one")
        full_time, full = cli(base_url, api_key, "ingest", str(folder), *common, "--wait")
        full_bytes = sum(p.stat().st_size for p in files)
        full_batches = len(full["batches"])

        change(files[arguments.changed:], arguments.changed, "two")
        list_bytes, list_plain = sync_list_bytes(folder)
        sync_time, synced = cli(base_url, api_key, "sync", str(folder), *common)
        uploaded = set(synced["new"]) | set(synced["changed"])
        file_bytes = sum(p.stat().st_size for p in files if p.relative_to(folder).as_posix() in uploaded)
    finally:
        for service in reversed(services):
            service.stop()
    sync_bytes = file_bytes + list_bytes
    print(f"full re-ingest ({arguments.changed} of {len(files)} changed): {full_time:.1f} s, "
          f"{full_bytes:,} bytes of files in {full_batches} batches")
    print(f"sync ({len(synced['changed'])} changed, {len(synced['new'])} new, {len(synced['unchanged'])} unchanged): "
          f"{sync_time:.1f} s, {sync_bytes:,} bytes ({file_bytes:,} of files in {len(synced['batches'])} batch(es) "
          f"+ {list_bytes:,} of the list, gzip; {list_plain:,} uncompressed)")
    print(f"sync against full re-ingest: {sync_bytes / full_bytes:.1%} of the bytes, "
          f"{sync_time / full_time:.1%} of the time")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=20)
    parser.add_argument("--ingestors", type=int, default=1)
    main(parser.parse_args())
