"""Run CPU-bound parsing in worker processes, each parse bounded in time.

A parse that runs past its limit has its worker process stopped (pebble replaces it),
so the event loop keeps heartbeats and acks flowing and nothing is left running.
"""

import asyncio
import multiprocessing
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from pebble import ProcessPool

from docintake.ingestor.parsing.errors import PARSE_TIMEOUT, IngestError
from docintake.ingestor.parsing.model import ParsedDocument
from docintake.ingestor.parsing.parsers import parse_file


class ParserPool:
    def __init__(self, workers: int, timeout_seconds: float, max_expanded_bytes: int):
        self.timeout_seconds = timeout_seconds
        self.max_expanded_bytes = max_expanded_bytes
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["docintake.ingestor.parsing.parsers"])
        self._pool = ProcessPool(max_workers=workers, context=context)

    async def parse(self, path: Path, filename_hint: str) -> ParsedDocument:
        future = self._pool.schedule(
            parse_file, args=(path, filename_hint, self.max_expanded_bytes), timeout=self.timeout_seconds
        )
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            raise IngestError(
                PARSE_TIMEOUT,
                f"Parsing took longer than {self.timeout_seconds:.0f} s and was stopped; "
                "the file may be damaged or far larger than it looks",
            ) from None

    def close(self) -> None:
        self._pool.stop()
        self._pool.join(timeout=10)
