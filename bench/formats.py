"""Side by side: which extractor gets text out of how many files of a real-world corpus, and how fast.

    .venv/bin/python bench/formats.py [CORPUS] [--only docintake,docintake-text-pass,kreuzberg,markitdown]

CORPUS defaults to $DOCINTAKE_CORPUS_DIR, else /work/shared/corpus. Each candidate reads every file in
this one process, one file after another; a file counts as read when the candidate returns non-blank
text for it. Prints, per file extension and in all, files with text / files and seconds. `docintake` OCRs what
needs it (scans, images, Office files of pictures) in this process; `docintake-text-pass` is its text pass alone
(no OCR: a file with pages to OCR counts as without text), the one to set beside kreuzberg, which never OCRs
here. A candidate whose package is not installed is named and skipped. kreuzberg runs as docintake configures it for the
formats it reads there (no OCR, no cache), so the figures compare extraction alone.
"""

import argparse
import os
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

Extractor = Callable[[Path], str]
DEFAULT_CORPUS = Path("/work/shared/corpus")


def docintake() -> Extractor:
    from docintake.ingestor.adapters.parsers.formats import parse_file
    from docintake.ingestor.domain.failures import IngestError

    def extract(path: Path) -> str:
        try:
            return "\n".join(section.text for section in parse_file(path, path.name).sections)
        except IngestError:
            return ""

    return extract


def docintake_text_pass() -> Extractor:
    """docintake without OCR, as its text pass reads: a file with pages to OCR has no text here (the OCR workers
    read it); what compares with kreuzberg configured never to OCR."""
    from docintake.ingestor.adapters.parsers.formats import parse_file
    from docintake.ingestor.adapters.parsers.ocr import OcrOptions
    from docintake.ingestor.domain.failures import IngestError

    def extract(path: Path) -> str:
        try:
            parsed = parse_file(path, path.name, ocr=OcrOptions(deferred=True))
        except IngestError:  # NeedsOcr among them
            return ""
        return "\n".join(section.text for section in parsed.sections)

    return extract


def kreuzberg() -> Extractor:
    import kreuzberg

    from docintake.ingestor.adapters.parsers.kreuzberg_formats import extraction_config

    def extract(path: Path) -> str:
        return kreuzberg.extract_file_sync(path, config=extraction_config()).content

    return extract


def markitdown() -> Extractor:
    from markitdown import MarkItDown

    converter = MarkItDown(enable_plugins=False)

    def extract(path: Path) -> str:
        return converter.convert(str(path)).text_content

    return extract


CANDIDATES: dict[str, Callable[[], Extractor]] = {
    "docintake": docintake, "docintake-text-pass": docintake_text_pass, "kreuzberg": kreuzberg,
    "markitdown": markitdown,
}


def main() -> None:
    arguments = _arguments()
    files = sorted(path for path in arguments.corpus.rglob("*") if path.is_file())
    print(f"corpus {arguments.corpus}: {len(files)} files\n")
    results: dict[str, dict[Path, tuple[bool, float]]] = {}
    for name in arguments.only.split(","):
        try:
            extract = CANDIDATES[name]()
        except ImportError as error:
            print(f"{name}: not installed ({error.name}), skipped")
            continue
        results[name] = {path: _measure(extract, path) for path in files}
    _report(files, results)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "corpus", nargs="?", type=Path, default=Path(os.environ.get("DOCINTAKE_CORPUS_DIR", DEFAULT_CORPUS))
    )
    parser.add_argument("--only", default=",".join(CANDIDATES), help="comma-separated candidates")
    return parser.parse_args()


def _measure(extract: Extractor, path: Path) -> tuple[bool, float]:
    started = time.perf_counter()
    try:
        has_text = bool(extract(path).strip())
    except Exception:  # a candidate that cannot read a file has no text for it
        has_text = False
    return has_text, time.perf_counter() - started


def _report(files: list[Path], results: dict[str, dict[Path, tuple[bool, float]]]) -> None:
    by_extension: dict[str, list[Path]] = defaultdict(list)
    for path in files:
        by_extension[path.suffix.lower() or "(none)"].append(path)
    names = list(results)
    print(f"{'extension':<10}" + "".join(f"{name:>24}" for name in names))
    rows = [*sorted(by_extension.items()), ("all", files)]
    for extension, paths in rows:
        cells = []
        for name in names:
            read = sum(results[name][path][0] for path in paths)
            seconds = sum(results[name][path][1] for path in paths)
            cells.append(f"{read:>4}/{len(paths):<4} {seconds:>9.3f} s")
        print(f"{extension:<10}" + "".join(f"{cell:>24}" for cell in cells))
    for name in names:
        unread = [path.name for path in files if not results[name][path][0]]
        print(f"\n{name} has no text for {len(unread)}: {', '.join(unread)}")


if __name__ == "__main__":
    main()
