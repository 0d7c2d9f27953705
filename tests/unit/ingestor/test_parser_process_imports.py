"""What a parser process imports: multiprocessing prepares each worker by importing its parent's main module, so
whatever the ingestor's entry point imports at its top is imported (and kept) in every parser process too."""

import json
import subprocess
import sys
from pathlib import Path

SERVICE_LIBRARIES = ("faststream", "aio_pika", "aiormq", "neo4j", "minio", "prometheus_client", "uvicorn",
                     "docintake.ingestor.bootstrap")

# What the installed `docintake-ingestor` script does at its top, then a parser pool whose worker reports its modules.
ENTRY_POINT = """
{extra_import}
from docintake.ingestor.__main__ import main


def services_imported(path, filename_hint, max_expanded_bytes, ocr):
    import json, sys
    from docintake.ingestor.domain.document import ParsedDocument, Section
    found = [name for name in {libraries!r} if name in sys.modules]
    return ParsedDocument("text", (Section(json.dumps(found)),), 1)


if __name__ == "__main__":
    import asyncio
    from docintake.ingestor.adapters.parser_pool import ParserPool

    async def report():
        pool = ParserPool(1, timeout_seconds=60, max_expanded_bytes=1024, parse_function=services_imported)
        try:
            print((await pool.parse(__import__("pathlib").Path(__file__), "x.txt")).sections[0].text)
        finally:
            pool.close()

    asyncio.run(report())
"""


def libraries_in_a_parser_process(tmp_path: Path, extra_import: str = "") -> list[str]:
    script = tmp_path / "docintake-ingestor"
    script.write_text(ENTRY_POINT.format(extra_import=extra_import, libraries=SERVICE_LIBRARIES))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_parser_process_imports_none_of_the_broker_graph_or_web_libraries(tmp_path):
    assert libraries_in_a_parser_process(tmp_path) == []


def test_a_parser_process_imports_what_its_main_module_imports_at_its_top(tmp_path):
    """The check above can see them: a library the entry point imported at its top is found in the worker."""
    found = libraries_in_a_parser_process(tmp_path, extra_import="import faststream, neo4j")
    assert {"faststream", "neo4j"} <= set(found)
