"""The parser processes' memory and speed, with no server: the end-to-end benchmark's mixed documents parsed
through the ingestor's parser pool.

    .venv/bin/python bench/parser_memory.py [--documents 300] [--workers 2]

Generates the documents (PDF, DOCX, TXT, Markdown, CSV, HTML; 1 to 10 pages) into a temporary folder, then parses
each through `ParserPool` as the ingestor's text pass does (forkserver, workers, spooling, no OCR), a few more
at once than there are workers, while every process's RSS and PSS is sampled every 0.1 s. Prints documents a
minute of parsing and the peak memory of the tree, summed both ways, and of each process by its part (this
script's own process is "main": it holds the generator's libraries, not the ingestor's).

This script is its parser processes' main module, as `docintake-ingestor` is the ingestor's: multiprocessing
imports it again in each worker, so it imports nothing at its top.
"""


def main() -> None:
    import argparse
    import asyncio
    import os
    import sys
    import tempfile
    import time
    from dataclasses import dataclass
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.system import Usage, per_minute
    from docintake.ingestor.adapters.parser_pool import ParserPool
    from docintake.ingestor.adapters.parsers.large import Spooling
    from docintake.ingestor.adapters.parsers.ocr import OcrOptions
    from docintake.ingestor.settings import IngestorSettings
    from tests.support.documents import mixed_set

    @dataclass
    class ThisProcess:
        name: str = "parsing"

        def pid(self) -> int:
            return os.getpid()

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    settings = IngestorSettings()

    async def parse_all(folder: Path) -> None:
        paths = []
        for name, content in mixed_set(arguments.documents, time.time_ns() % 10**9):
            (folder / name).write_bytes(content)
            paths.append(folder / name)
        pool = ParserPool(arguments.workers, settings.parse_timeout_seconds, settings.max_expanded_bytes,
                          ocr=OcrOptions(deferred=True),
                          spooling=Spooling(settings.large_document_bytes, settings.staged_transaction_bytes,
                                            settings.chunk_size, settings.chunk_overlap))
        usage = Usage([ThisProcess()])  # type: ignore[list-item]
        sampler = asyncio.create_task(usage.sample_every(0.1))
        try:
            await pool.start()
            at_once = asyncio.Semaphore(arguments.workers + 2)

            async def parse(path: Path) -> None:
                async with at_once:
                    await pool.parse(path, path.name)

            started = time.perf_counter()
            await asyncio.gather(*(parse(path) for path in paths))
            seconds = time.perf_counter() - started
        finally:
            sampler.cancel()
            usage.finish()
            pool.close()
        print(f"{len(paths)} documents parsed by {arguments.workers} workers in {seconds:.1f} s = "
              f"{per_minute(len(paths), seconds):.0f} documents/min")
        print(usage.summary())

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(parse_all(Path(folder)))


if __name__ == "__main__":
    main()
