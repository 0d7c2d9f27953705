"""Large documents: PDFs of many pages through the public API, in pages per minute, next to plain pypdfium2.

    .venv/bin/python bench/large_pdfs.py [--documents 100] [--pages 50] [--ingestors 1] [--uploads 1]

Generates `--documents` PDFs of `--pages` text pages each (about 1,500 characters a page, each PDF its own
content), starts the three services as their own processes, uploads the PDFs through the gateway in batches
of 100 and waits for every batch's BatchCompleted. Then it extracts the text of the same pages with
pypdfium2 in one plain loop in this process (open each PDF from memory, read each page's text layer) and
prints both in pages per minute, and end to end as a share of the plain loop (goal: at least 0.6).
"""

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

import pypdfium2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.system import MiB, failed_count, ingest, per_minute, running_system  # noqa: E402
from docintake.ingestor.settings import IngestorSettings  # noqa: E402
from tests.support.documents import pdf, prose_pages  # noqa: E402

GOAL = 0.6


def large_pdfs(count: int, pages: int, seed: int) -> list[tuple[str, bytes]]:
    rnd = random.Random(seed)
    return [
        (f"large-{seed}-{number:03d}.pdf", pdf(prose_pages(f"Report {seed}-{number}", pages, rnd)))
        for number in range(count)
    ]


def plain_extraction(documents: list[tuple[str, bytes]]) -> tuple[float, int, int]:
    """Seconds, pages and characters of reading every page's text layer with pypdfium2, one after another."""
    pages = characters = 0
    started = time.perf_counter()
    for _, content in documents:
        document = pypdfium2.PdfDocument(content)
        try:
            for index in range(len(document)):
                page = document[index]
                text_page = page.get_textpage()
                characters += len(text_page.get_text_range())
                text_page.close()
                page.close()
                pages += 1
        finally:
            document.close()
    return time.perf_counter() - started, pages, characters


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--pages", type=int, default=50, help="pages per PDF")
    parser.add_argument("--ingestors", type=int, default=1, help="ingestor processes")
    parser.add_argument("--uploads", type=int, default=1, help="batches uploading at once")
    arguments = parser.parse_args()
    settings = IngestorSettings()
    documents = large_pdfs(arguments.documents, arguments.pages, time.time_ns() % 10**9)
    pages = arguments.documents * arguments.pages
    size = sum(len(content) for _, content in documents)
    print(f"{len(documents)} generated PDFs of {arguments.pages} pages ({pages} pages, {size / MiB:.1f} MiB); "
          f"{arguments.ingestors} ingestor process(es) x {settings.workers} parser workers", flush=True)

    async with running_system(settings, arguments.ingestors) as running:
        ingested = await ingest(running, documents, arguments.uploads)
    rate = per_minute(pages, ingested.seconds)
    print(f"end to end: {pages} pages in {ingested.seconds:.1f} s = {rate:.0f} pages/min "
          f"({failed_count(ingested.events)} of {len(documents)} documents failed)")
    print(running.usage.summary())

    plain_seconds, plain_pages, characters = plain_extraction(documents)
    plain_rate = per_minute(plain_pages, plain_seconds)
    print(f"plain pypdfium2 (one loop, text layer of each page, {characters / plain_pages:.0f} characters a page): "
          f"{plain_pages} pages in {plain_seconds:.1f} s = {plain_rate:.0f} pages/min")
    print(f"end to end is {rate / plain_rate:.2f} x plain pypdfium2 (goal: at least {GOAL})")


if __name__ == "__main__":
    asyncio.run(main())
