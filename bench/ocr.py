"""Which OCR engine the ingestor uses, measured: Debian's tesseract CLI vs kreuzberg's bundled tesseract.

    .venv/bin/python bench/ocr.py [CORPUS] [--dpi 300] [--languages eng]

CORPUS defaults to $DOCINTAKE_CORPUS_DIR, else /work/shared/corpus. Both engines read the same page
images, rendered once by pypdfium2 (grayscale PNG), one page after another in this one process:

- `tesseract-cli`: Debian's `tesseract` run per page through subprocess (stdin to stdout, one thread:
  OMP_THREAD_LIMIT=1, which the ingestor sets too; tesseract's OpenMP threads make it several
  times slower on small machines);
- `kreuzberg`: kreuzberg's bundled tesseract (`extract_bytes_sync` on the same PNG) with
  TESSDATA_PREFIX at Debian's tessdata, no cache; and `kreuzberg-pdf` on the scans themselves, with
  its own rendering (force_ocr), for what it does end to end.

Two sets of pages:

- scans: the corpus's PDF pages without a text layer (what the ingestor OCRs). No reference text
  exists for them: the table gives seconds and words, and how many of one engine's words the other found.
- text pages: the first page of each of a few of the corpus's PDFs that do have a text layer, rendered
  to an image like a scan; their text layer is the reference, so word recall measures quality.
"""

import argparse
import io
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

# one OpenMP thread for both engines (kreuzberg's tesseract reads it when it loads): the fair setting, and the fast one
os.environ["OMP_THREAD_LIMIT"] = "1"
DEFAULT_CORPUS = Path("/work/shared/corpus")
TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")
TEXT_PAGES = ("fake-memo.pdf", "DA-1p.pdf", "multi-column-2p.pdf", "layout-parser-paper-fast.pdf",
              "pdf-with-ocr-text.pdf", "reliance.pdf")
WORD = re.compile(r"\w+")


def words(text: str) -> Counter[str]:
    return Counter(word.lower() for word in WORD.findall(text))


def recall(reference: Counter[str], found: Counter[str]) -> float:
    """Share of the reference's words (with repeats) that the OCR text holds too."""
    total = sum(reference.values())
    return sum((reference & found).values()) / total if total else 1.0


def render(path: Path, index: int, dpi: int) -> bytes:
    import pypdfium2

    document = pypdfium2.PdfDocument(path)
    try:
        image = document[index].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def tesseract_cli(languages: str, dpi: int, *options: str):
    def ocr(png: bytes) -> str:
        command = ["tesseract", "stdin", "stdout", "-l", languages, "--dpi", str(dpi), *options]
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        return subprocess.run(command, input=png, capture_output=True, check=True, env=env).stdout.decode()

    return ocr


def kreuzberg_engine(languages: str):
    import kreuzberg
    from kreuzberg import ConcurrencyConfig, ExtractionConfig, OcrConfig

    os.environ.setdefault("TESSDATA_PREFIX", str(TESSDATA))
    ocr = OcrConfig(backend="tesseract", language=languages)
    threads = ConcurrencyConfig(max_threads=1)
    config = ExtractionConfig(use_cache=False, ocr=ocr, concurrency=threads)
    pdf_config = ExtractionConfig(use_cache=False, force_ocr=True, ocr=ocr, concurrency=threads)

    def ocr(png: bytes) -> str:
        return kreuzberg.extract_bytes_sync(png, mime_type="image/png", config=config).content

    def ocr_pdf(path: Path) -> str:
        return kreuzberg.extract_file_sync(path, mime_type="application/pdf", config=pdf_config).content

    return ocr, ocr_pdf


def timed(function, *args) -> tuple[str, float]:
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def scans(corpus: Path) -> list[tuple[Path, int]]:
    """Every page of the corpus's PDFs that has no text layer but shows something."""
    import pypdfium2

    pages = []
    for path in sorted(corpus.rglob("*.pdf")):
        try:
            document = pypdfium2.PdfDocument(path)
        except pypdfium2.PdfiumError:
            continue
        try:
            for index in range(len(document)):
                page = document[index]
                text_page = page.get_textpage()
                if not text_page.get_text_range().strip() and next(iter(page.get_objects()), None) is not None:
                    pages.append((path, index))
                text_page.close()
                page.close()
        finally:
            document.close()
    return pages


def native_text(path: Path) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(path)
    try:
        return document[0].get_textpage().get_text_range()
    finally:
        document.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path,
                        default=Path(os.environ.get("DOCINTAKE_CORPUS_DIR", DEFAULT_CORPUS)))
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--languages", default="eng")
    arguments = parser.parse_args()
    if shutil.which("tesseract") is None:
        raise SystemExit("tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-eng")
    kreuzberg_image, kreuzberg_pdf = kreuzberg_engine(arguments.languages)
    engines = {
        "tesseract-cli": tesseract_cli(arguments.languages, arguments.dpi),
        "cli+sauvola": tesseract_cli(arguments.languages, arguments.dpi, "-c", "thresholding_method=2"),
        "kreuzberg": kreuzberg_image,
    }
    print(f"corpus {arguments.corpus}, {arguments.dpi} dpi, languages {arguments.languages}, cores {os.cpu_count()}")
    print("each engine: seconds, words found; on scans also how many of kreuzberg's words it found (~kz), "
          "on text pages the recall of the text layer's words\n")
    header = "".join(f"{name:>22}" for name in engines)
    seconds: dict[str, float] = Counter()
    recalls: dict[str, list[float]] = {name: [] for name in engines}
    pages = 0

    print(f"{'scans (no text layer)':40}{'render s':>9}{header}{'kreuzberg-pdf s':>17}")
    for path, index in scans(arguments.corpus):
        png, render_s = timed(render, path, index, arguments.dpi)
        texts = {name: timed(engine, png) for name, engine in engines.items()}
        _, pdf_s = timed(kreuzberg_pdf, path)
        reference = words(texts["kreuzberg"][0])
        cells = ""
        for name, (text, took) in texts.items():
            found = words(text)
            seconds[name] += took
            cells += f"{took:8.2f} {sum(found.values()):5} {recall(reference, found):6.0%} "
        pages += 1
        print(f"{path.name + f' p{index + 1}':40}{render_s:9.2f}{cells}{pdf_s:16.2f}")

    print(f"\n{'text pages rendered as scans':49}{header}")
    for name in TEXT_PAGES:
        path = next(iter(arguments.corpus.rglob(name)), None)
        if path is None:
            continue
        reference = words(native_text(path))
        png = render(path, 0, arguments.dpi)
        cells = ""
        for engine_name, engine in engines.items():
            text, took = timed(engine, png)
            found = words(text)
            seconds[engine_name] += took
            recalls[engine_name].append(recall(reference, found))
            cells += f"{took:8.2f} {sum(found.values()):5} {recalls[engine_name][-1]:6.1%} "
        pages += 1
        print(f"{name:49}{cells}")

    print(f"\nall {pages} pages, seconds per page and mean recall on the text pages:")
    for name in engines:
        mean = sum(recalls[name]) / max(len(recalls[name]), 1)
        print(f"  {name:15} {seconds[name] / max(pages, 1):5.2f} s/page  {mean:6.1%}")


if __name__ == "__main__":
    main()
