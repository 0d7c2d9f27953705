"""A real-world corpus through the public API, and text-file latency with a long scan queued ahead of them.

    .venv/bin/python -m deploy.native.isolated .venv/bin/python bench/corpus_api.py corpus [CORPUS]
    .venv/bin/python -m deploy.native.isolated .venv/bin/python bench/corpus_api.py latency [--scan-pages 100]

Starts the three services as their own processes (one ingestor: its text workers and OCR workers as the settings
say), against the servers of DOCINTAKE_*.

- `corpus`: uploads every file of CORPUS ($DOCINTAKE_CORPUS_DIR, else /work/shared/corpus) through the gateway in
  batches of 100, each under its path in the corpus, waits for every batch to finish and prints, per extension,
  files ingested and failed (a status names a file by its base name: files of one name in two folders count
  under the outcome of one of them), then each failure with its error code and reason, and the seconds it all took.
- `latency`: a batch of 50 text files to warm the services up; then `--rounds` rounds (3) of the same 50 alone
  and the same 50 behind a scan of `--scan-pages` pages (rendered from known text at 300 dpi) first in the same
  batch, each round waiting for the scan's outcome; prints each run's text-file latency (from the start of the
  upload to the file's DocumentIngested) at p50 and p95, and the ratio of the rounds' median p95s. Then the
  scan's OCR pass (from its OcrRequested to its DocumentIngested, the rounds' median) in pages per minute,
  beside Debian's `tesseract` run on the same page images (encoded beforehand) one after another in this process
  (one thread each, as the ingestor runs it), with tesseract's defaults (what the ingestor runs on these pages of
  ink on white) and with Sauvola's thresholding (what it runs on a page with grey in it).
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from uuid import uuid4

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.native.services import system  # noqa: E402
from docintake.ingestor.adapters.parsers.ocr import SAUVOLA, TESSERACT_OPTIONS  # noqa: E402
from docintake.platform.settings import Settings  # noqa: E402
from tests.support.batches import INGEST, TERMINAL  # noqa: E402
from tests.support.broker import listen  # noqa: E402
from tests.support.http import free_port  # noqa: E402
from tests.unit.ingestor import scans  # noqa: E402

BATCH_SIZE = 100
TEXT_FILES = 50
DEFAULT_CORPUS = Path("/work/shared/corpus")


class Running:
    """The system's processes, started for one run and stopped after it."""

    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        self.port = free_port()
        self.services = system(settings, 1, {
            "DOCINTAKE_GATEWAY_PORT": str(self.port), "DOCINTAKE_STATUS_PORT": str(free_port()),
            "DOCINTAKE_INGESTOR_METRICS_PORT": str(free_port()), **env,
        }, Path(tempfile.mkdtemp(prefix="docintake-bench-")))
        self.api_key = settings.api_key_list[0]

    async def __aenter__(self) -> httpx.AsyncClient:
        try:
            for service in self.services:
                service.start()
        except BaseException:
            self.stop()
            raise
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}",
                                        headers={"X-API-Key": self.api_key}, timeout=600)
        return self.client

    async def __aexit__(self, *_) -> None:
        await self.client.aclose()
        self.stop()

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()


async def upload(api: httpx.AsyncClient, files: list[tuple[str, bytes]]) -> str:
    response = await api.post(f"{INGEST}/batch", files=[
        ("files", (name, content, "application/octet-stream")) for name, content in files
    ])
    response.raise_for_status()
    return response.json()["batch_id"]


async def finished(api: httpx.AsyncClient, batch_id: str) -> dict:
    while True:
        response = await api.get(f"{INGEST}/batch/{batch_id}/status")
        if response.status_code == 200 and response.json()["status"] in TERMINAL:
            return response.json()
        await asyncio.sleep(1)


async def corpus_run(settings: Settings, corpus: Path) -> None:
    paths = sorted(path for path in corpus.rglob("*") if path.is_file())
    files = [(str(path.relative_to(corpus)), path.read_bytes()) for path in paths]
    print(f"corpus {corpus}: {len(files)} files")
    async with Running(settings, {}) as api:
        started = time.perf_counter()
        batches = [await upload(api, files[i:i + BATCH_SIZE]) for i in range(0, len(files), BATCH_SIZE)]
        statuses = [await finished(api, batch_id) for batch_id in batches]
        elapsed = time.perf_counter() - started
    failures = {f["filename"]: f for status in statuses for f in status.get("failed_documents", [])}
    outcomes = {d["filename"]: d["outcome"] for status in statuses for d in status["documents"]}
    by_extension: dict[str, list[str]] = defaultdict(list)
    for name, _ in files:
        by_extension[Path(name).suffix.lower() or "(none)"].append(Path(name).name)
    print(f"{'extension':<10}{'files':>6}{'ingested':>10}{'failed':>8}")
    total = 0
    for extension, names in sorted(by_extension.items()):
        ingested = sum(outcomes.get(name) in ("ingested", "updated", "unchanged") for name in names)
        total += ingested
        print(f"{extension:<10}{len(names):>6}{ingested:>10}{len(names) - ingested:>8}")
    print(f"{'all':<10}{len(files):>6}{total:>10}{len(files) - total:>8}   in {elapsed:.1f} s")
    for name, failure in sorted(failures.items()):
        print(f"  {name}: {failure.get('error_code')}: {failure.get('error')}")


async def text_latencies(api: httpx.AsyncClient, settings: Settings, scan: bytes | None) -> tuple[list[float], float]:
    """Seconds from the start of the upload to each text file's DocumentIngested; and, with a scan, the seconds
    from its OcrRequested to its outcome (its OCR pass)."""
    tag = uuid4().hex[:8]
    texts = [(f"note-{tag}-{n:02d}.md", f"# Note {n}\n\n{'Knowledge graphs link documents. ' * 30}\n".encode())
             for n in range(TEXT_FILES)]
    scan_name = f"scan-{tag}.pdf"
    files = ([(scan_name, scan)] if scan is not None else []) + texts
    names = {name for name, _ in texts}
    arrivals: dict[str, float] = {}
    ocr_span: dict[str, float] = {}
    async with listen(settings.rabbitmq_url, "document.ingested", "document.failed",
                      "document.ocr_requested") as listener:
        started = time.perf_counter()
        batch_id = await upload(api, files)
        seen = 0

        def done(events: list[dict]) -> bool:
            nonlocal seen
            for event in events[seen:]:
                now = time.perf_counter() - started
                if event["batch_id"] != batch_id:
                    continue
                if event["event_type"].endswith("ocr_requested"):
                    ocr_span.setdefault("requested", now)
                elif event["data"]["filename"] in names:
                    arrivals.setdefault(event["data"]["filename"], now)
                elif event["data"]["filename"] == scan_name:
                    ocr_span.setdefault("outcome", now)
                    ocr_span["failed"] = float(event["event_type"].endswith("failed"))
            seen = len(events)
            return len(arrivals) == len(names) and (scan is None or "outcome" in ocr_span)

        await listener.collect(lambda events: done(events) and events, timeout=3600)
    if ocr_span.get("failed"):
        raise RuntimeError("the scan failed; see the ingestor's log")
    return list(arrivals.values()), ocr_span.get("outcome", 0.0) - ocr_span.get("requested", 0.0)


def plain_tesseract_seconds(pages: list[bytes], options: Sequence[str]) -> float:
    """Debian's tesseract on the same page images (encoded beforehand), one after another, on one thread as the
    ingestor runs it."""
    started = time.perf_counter()
    for page in pages:
        subprocess.run(["tesseract", "stdin", "stdout", "-l", "eng", "--dpi", "300", *options],
                       input=page, capture_output=True, check=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    return time.perf_counter() - started


async def latency_run(settings: Settings, scan_pages: int, rounds: int) -> None:
    pages = [scans.text_image(f"Page {page}. {scans.MINUTES}") for page in range(1, scan_pages + 1)]
    scan = scans.scanned_pdf(pages)
    p95s: dict[str, list[float]] = {"alone": [], "behind": []}
    ocr_runs: list[float] = []
    async with Running(settings, {"DOCINTAKE_OCR_MAX_PAGES": str(scan_pages)}) as api:
        await text_latencies(api, settings, None)  # warms the services up; not counted
        for number in range(1, rounds + 1):
            alone, _ = await text_latencies(api, settings, None)
            behind, ocr_seconds = await text_latencies(api, settings, scan)  # returns once the scan is done too
            ocr_runs.append(ocr_seconds)
            for label, run in (("alone", alone), ("behind", behind)):
                quantiles = statistics.quantiles(run, n=100)
                p95s[label].append(quantiles[94])
                print(f"round {number}: {TEXT_FILES} text files {label}: p50 {quantiles[49]:.2f} s, "
                      f"p95 {quantiles[94]:.2f} s")
            print(f"round {number}: OCR of the scan by the OCR worker {ocr_seconds:.1f} s")
    alone_p95, behind_p95 = statistics.median(p95s["alone"]), statistics.median(p95s["behind"])
    print(f"median p95 over {rounds} rounds: alone {alone_p95:.2f} s, behind the scan {behind_p95:.2f} s; "
          f"behind / alone {behind_p95 / alone_p95:.2f}")
    ocr_seconds = statistics.median(ocr_runs)
    print(f"OCR of the {scan_pages}-page scan by the OCR worker, median of {rounds}: {ocr_seconds:.1f} s = "
          f"{scan_pages / ocr_seconds * 60:.1f} pages/min")
    encoded = [scans.encoded(page, "PNG") for page in pages]
    for label, options in (("its defaults", TESSERACT_OPTIONS), ("Sauvola's thresholding",
                                                                  (*TESSERACT_OPTIONS, *SAUVOLA))):
        plain = plain_tesseract_seconds(encoded, options)
        print(f"plain tesseract with {label} ({' '.join(options)}) on the same pages: {plain:.1f} s = "
              f"{scan_pages / plain * 60:.1f} pages/min; the worker at {plain / ocr_seconds:.0%} of it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    corpus = commands.add_parser("corpus")
    corpus.add_argument("corpus", nargs="?", type=Path,
                        default=Path(os.environ.get("DOCINTAKE_CORPUS_DIR", DEFAULT_CORPUS)))
    latency = commands.add_parser("latency")
    latency.add_argument("--scan-pages", type=int, default=100)
    latency.add_argument("--rounds", type=int, default=3, help="rounds of the two runs; their medians compare")
    arguments = parser.parse_args()
    settings = Settings()
    if arguments.command == "corpus":
        asyncio.run(corpus_run(settings, arguments.corpus))
    else:
        asyncio.run(latency_run(settings, arguments.scan_pages, arguments.rounds))


if __name__ == "__main__":
    main()
