"""The parser pool in real worker processes: a worker that dies fails at most the document it was parsing."""

import asyncio
import os
import threading
from pathlib import Path

import psutil
import pytest

from docintake.ingestor.adapters.parser_pool import ParserPool
from docintake.ingestor.adapters.parsers.ocr import OcrOptions
from docintake.ingestor.domain import failures
from docintake.ingestor.domain.document import ParsedDocument, Section
from docintake.ingestor.domain.failures import IngestError


def scripted(path: Path, filename_hint: str, max_expanded_bytes: int, ocr: OcrOptions) -> ParsedDocument:
    """A stand-in parser run in the workers, doing what the file says: "die", "die later" or "parse".

    A worker that exits is what a segfault in a native parser or the OOM killer looks like to the pool.
    """
    instruction = Path(path).read_text()
    if instruction == "die":
        os._exit(3)
    if instruction == "die later":  # after handing back its result, while the worker is idle
        threading.Timer(0.2, os._exit, (4,)).start()
    return ParsedDocument("text", (Section(instruction),), 1)


@pytest.fixture
async def pool():
    pool = ParserPool(1, timeout_seconds=30, max_expanded_bytes=1024, parse_function=scripted)
    yield pool
    pool.close()


@pytest.fixture
def file(tmp_path):
    def file(instruction: str) -> Path:
        path = tmp_path / instruction.replace(" ", "-")
        path.write_text(instruction)
        return path

    return file


async def test_a_worker_that_dies_fails_its_document_as_parser_crashed(pool, file):
    with pytest.raises(IngestError) as caught:
        await pool.parse(file("die"), "any.pdf")

    assert caught.value.code == failures.PARSER_CRASHED
    assert "exited with code 3" in caught.value.message


async def test_the_next_document_is_parsed_after_a_worker_died_while_parsing(pool, file):
    with pytest.raises(IngestError):
        await pool.parse(file("die"), "any.pdf")

    assert (await pool.parse(file("parse"), "a.txt")).sections[0].text == "parse"


async def test_the_next_document_is_parsed_after_a_worker_died_while_idle(pool, file):
    await pool.parse(file("die later"), "a.txt")
    await asyncio.sleep(1.0)  # pebble notices the death and gives up on its pool

    assert (await pool.parse(file("parse"), "b.txt")).sections[0].text == "parse"


async def test_a_closed_pool_is_not_started_again(pool, file):
    pool.close()

    with pytest.raises(RuntimeError):
        await pool.parse(file("parse"), "a.txt")


async def test_started_workers_are_running_before_the_first_document():
    pool = ParserPool(2, timeout_seconds=10, max_expanded_bytes=1 << 20)
    try:
        await pool.start()
        forked_by_the_forkserver = [child for child in psutil.Process().children(recursive=True)
                                    if child.ppid() != os.getpid()]
        assert len(forked_by_the_forkserver) == 2
    finally:
        pool.close()
