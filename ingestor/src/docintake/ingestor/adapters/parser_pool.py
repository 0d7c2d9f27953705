"""Run CPU-bound parsing in worker processes, each parse bounded in time.

A parse that runs past its limit has its worker process stopped (pebble replaces it),
so the event loop keeps heartbeats and acks flowing and nothing is left running.
A worker that dies (a crash in a native library, the kernel's OOM killer) fails only
the document it was parsing. OCR runs in the workers too (a tesseract process per page,
started by the worker and killed with it), within the same limits. A document past the large-document
size is chunked in its worker into a spool file (adapters.parsers.large), so only the spool's name comes back.

This process never imports the parsers (their libraries take tens of MiB): the workers do.
"""

import asyncio
import dataclasses
import multiprocessing
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from pebble import ProcessExpired, ProcessPool

from docintake.ingestor.adapters.parsers.heap import freeze_start_up
from docintake.ingestor.adapters.parsers.large import ParseFunction, Spooling, parse_document, parse_whole
from docintake.ingestor.adapters.parsers.ocr import OcrOptions, debian_package, missing_languages, read_progress
from docintake.ingestor.domain.document import ParsedDocument
from docintake.ingestor.domain.failures import PARSE_TIMEOUT, PARSER_CRASHED, IngestError
from docintake.platform.logging import get_logger

log = get_logger(__name__)

MiB = 1024 * 1024
# Told the pages OCR'd so far and the pages to OCR, while an OCR pass runs.
Progress = Callable[[int, int], Awaitable[None]]


def how_it_ended(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"was killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


class ParserPool:
    """`parse_function`: runs in the workers (importable there by name); None: formats.parse_file, imported by the
    workers only. `spooling`: how large documents are chunked in the workers; None: never. A file past its
    threshold may take a second per MiB longer than `timeout_seconds`. `lazy`: the workers start with the first
    document, not at start(): for a pool that may never be needed (OCR on an ingestor that sees no scan).
    `max_documents`: a worker is replaced by a fresh one after that many (0: never), which gives back what the
    parsing libraries kept (some 30 to 100 MiB a worker over a few hundred mixed documents)."""

    def __init__(
        self, workers: int, timeout_seconds: float, max_expanded_bytes: int,
        parse_function: ParseFunction | None = None,
        ocr: OcrOptions = OcrOptions(),
        spooling: Spooling | None = None,
        lazy: bool = False,
        max_documents: int = 0,
    ):
        self.workers = workers
        self.ocr = ocr
        self.timeout_seconds = timeout_seconds
        self.max_expanded_bytes = max_expanded_bytes
        self.parse_function = parse_function
        self.spooling = spooling
        self.lazy = lazy
        self.max_documents = max_documents
        self._pool = self._new_pool()
        self._closed = False
        self._started = asyncio.Lock()
        self._workers_started = False

    def _new_pool(self) -> ProcessPool:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["docintake.ingestor.adapters.parsers.preloaded"])
        # each worker also freezes what it imported to start (its parent's main module among it), after the fork
        return ProcessPool(max_workers=self.workers, max_tasks=self.max_documents, context=context,
                           initializer=freeze_start_up)

    def _working_pool(self) -> ProcessPool:
        """The pool, replaced first if it broke: pebble gives up on a pool whose worker died while idle."""
        if not self._pool.active and not self._closed:
            log.warning("parser pool broken; starting a new one")
            _stop(self._pool)
            self._pool = self._new_pool()
        return self._pool

    async def start(self) -> None:
        """Start the workers now (unless lazy), off the event loop: starting them takes seconds, which the first
        document would otherwise spend with the loop (heartbeats, acks) blocked."""
        if not self.lazy:
            await self._start_workers()
        if not self.ocr.deferred:  # the text pass never OCRs
            await asyncio.to_thread(self._check_ocr)

    async def _start_workers(self) -> None:
        def started() -> None:
            for future in [self._working_pool().schedule(os.getpid) for _ in range(self.workers)]:
                future.result()

        async with self._started:
            if not self._workers_started:
                await asyncio.to_thread(started)
                self._workers_started = True

    def _timeout_for(self, path: Path) -> float:
        size = path.stat().st_size
        if self.spooling is None or size <= self.spooling.threshold_bytes:
            return self.timeout_seconds
        return self.timeout_seconds + size / MiB

    def _check_ocr(self) -> None:
        """Say at start-up, not only on the first scan, when OCR cannot work here."""
        missing = missing_languages(self.ocr)
        if missing is None:
            log.warning("tesseract is not installed: scans and images will fail with OCR_FAILED",
                        install="apt-get install tesseract-ocr " + " ".join(map(debian_package, self.ocr.codes)))
        elif missing:
            log.warning("OCR languages not installed: scans and images will fail with OCR_FAILED", missing=missing,
                        install="apt-get install " + " ".join(map(debian_package, missing)))

    async def parse(self, path: Path, filename_hint: str, progress: Progress | None = None,
                    progress_interval_seconds: float = 2.0) -> ParsedDocument:
        """`progress`: told, at most every `progress_interval_seconds`, how far OCR of the document got."""
        ocr = self.ocr
        progress_path = Path(f"{path}.ocr-progress")
        if progress is not None:
            ocr = dataclasses.replace(ocr, progress_path=str(progress_path))
        await self._start_workers()
        timeout = self._timeout_for(path)
        arguments = (path, filename_hint, self.max_expanded_bytes, ocr)
        if self.spooling is not None:
            future = self._working_pool().schedule(
                parse_document, args=(self.parse_function, self.spooling, *arguments), timeout=timeout)
        else:
            future = self._working_pool().schedule(
                self.parse_function or parse_whole, args=arguments, timeout=timeout)
        try:
            parsed = asyncio.wrap_future(future)
            if progress is None:
                return await parsed
            try:
                return await _reporting(parsed, progress_path, progress, progress_interval_seconds)
            except BaseException:
                future.cancel()  # a report that raised (or a cancelled task) stops the parse: pebble ends its process
                raise
        except FutureTimeout:
            raise IngestError(
                PARSE_TIMEOUT,
                f"Parsing took longer than {timeout:.0f} s and was stopped; "
                "the file may be damaged or far larger than it looks",
            ) from None
        except ProcessExpired as exc:
            log.error("parser process died", exitcode=exc.exitcode, exc_info=True)
            raise IngestError(
                PARSER_CRASHED,
                f"The parser process {how_it_ended(exc.exitcode)} while reading this file; "
                "the file may be damaged or need more memory than the parser has",
            ) from exc
        except BrokenProcessPool as exc:
            log.error("parser pool broke", exc_info=True)
            raise IngestError(
                PARSER_CRASHED, "The parser processes stopped unexpectedly before this file was read; retry it",
                retryable=True,
            ) from exc

    def close(self) -> None:
        self._closed = True
        _stop(self._pool)


async def _reporting(parsed: "asyncio.Future[ParsedDocument]", progress_path: Path, progress: Progress,
                     interval: float) -> ParsedDocument:
    """The parse, its progress file read every `interval` and each change told to `progress`."""
    told: tuple[int, int] | None = None
    while True:
        finished, _ = await asyncio.wait({parsed}, timeout=interval)
        if finished:
            parsed.result()  # a failure raises here, its last pages not told
        now = await asyncio.to_thread(read_progress, progress_path)
        if now is not None and now != told:
            told = now
            await progress(*now)
        if finished:  # the last pages told too, before the outcome
            return parsed.result()


def _stop(pool: ProcessPool) -> None:
    pool.stop()
    pool.join(timeout=10)
