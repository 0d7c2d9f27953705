"""Robustness run: parse every file of a real-world corpus, each in a worker process with a timeout.

    DOCINTAKE_CORPUS_DIR=/path/to/corpus .venv/bin/python bench/corpus_run.py [--timeout 60] [--workers N]

Prints, per file extension, how many files were ingested and how many failed, every failure with its
error code and message, and the total time and pages per second. A crash or hang of the parser is
reported as a failure of that file; the run itself always completes.
"""

import argparse
import os
import time
from collections import defaultdict
from concurrent.futures import TimeoutError
from pathlib import Path

from pebble import ProcessExpired, ProcessPool

from docintake.ingestor.adapters.parsers.formats import parse_file
from docintake.ingestor.domain.document import ParsedDocument
from docintake.ingestor.domain.failures import CORRUPT_FILE, PARSE_TIMEOUT, IngestError

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    arguments = _arguments()
    corpus = Path(os.environ.get("DOCINTAKE_CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
    files = sorted(path for path in corpus.rglob("*") if path.is_file())
    started = time.perf_counter()
    with ProcessPool(max_workers=arguments.workers) as pool:
        futures = [pool.schedule(parse_file, (path, path.name), timeout=arguments.timeout) for path in files]
        outcomes = [_outcome(future, arguments.timeout) for future in futures]
    elapsed = time.perf_counter() - started
    _report(corpus, list(zip(files, outcomes, strict=True)), elapsed)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds allowed per file")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="worker processes")
    return parser.parse_args()


def _outcome(future, timeout: float) -> ParsedDocument | IngestError:
    try:
        return future.result()
    except IngestError as error:
        return error
    except TimeoutError:
        return IngestError(PARSE_TIMEOUT, f"Parsing took longer than {timeout:g} s and was stopped")
    except ProcessExpired as error:
        return IngestError(CORRUPT_FILE, f"The parser crashed on this file (exit code {error.exitcode})")
    except Exception as error:  # a bug: parse_file must only raise IngestError
        return IngestError("UNEXPECTED", f"{type(error).__name__}: {error}")


def _report(corpus: Path, outcomes: list[tuple[Path, ParsedDocument | IngestError]], elapsed: float) -> None:
    by_extension: dict[str, list[tuple[Path, ParsedDocument | IngestError]]] = defaultdict(list)
    for path, outcome in outcomes:
        by_extension[path.suffix.lower() or "(none)"].append((path, outcome))
    print(f"corpus {corpus}: {len(outcomes)} files\n")
    print(f"{'extension':<10} {'files':>5} {'ingested':>8} {'failed':>6} {'pages':>6} {'characters':>11}")
    for extension, results in sorted(by_extension.items()):
        parsed = [outcome for _, outcome in results if isinstance(outcome, ParsedDocument)]
        print(
            f"{extension:<10} {len(results):>5} {len(parsed):>8} {len(results) - len(parsed):>6} "
            f"{sum(document.pages for document in parsed):>6} {sum(d.characters for d in parsed):>11}"
        )
    failures = [(path, outcome) for path, outcome in outcomes if isinstance(outcome, IngestError)]
    print(f"\nfailures ({len(failures)}):")
    for path, error in failures:
        print(f"  {str(path.relative_to(corpus)):<48} {error.code:<19} {error.message}")
    pages = sum(outcome.pages for _, outcome in outcomes if isinstance(outcome, ParsedDocument))
    print(f"\ntotal {elapsed:.1f} s, {pages} pages, {pages / elapsed:.0f} pages/s")


if __name__ == "__main__":
    main()
