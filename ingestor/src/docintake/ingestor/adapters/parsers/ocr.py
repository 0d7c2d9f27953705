"""Text recognition (OCR) with Debian's tesseract: one `tesseract` process per page image, bounded in time,
and the pages of one upload bounded in number.

Chosen by measurement (bench/ocr.py): Debian's tesseract CLI on pypdfium2-rendered pages reads the corpus's scans
about twice as fast as kreuzberg's bundled tesseract, with the same words. A process per page can be stopped when
it runs past its time limit and cannot take the parser process down with it. tesseract runs on one thread
(OMP_THREAD_LIMIT=1): the parser pool's processes are the parallelism, and OpenMP threads make a page several
times slower on a small machine. While tesseract reads a page, the next one is rendered and encoded. tesseract
runs below everything else on the machine (OCR_NICENESS): a scan gets the CPU the text pass, the services and the
servers leave, and never slows them; so does the thread that renders and encodes the next page.
"""

import ctypes
import io
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from docintake.ingestor.domain.failures import OCR_FAILED, OCR_PAGE_LIMIT, OCR_TIMEOUT, IngestError, NeedsOcr

TESSERACT = "tesseract"
RENDER_DPI = 300  # what tesseract reads best; a rendered PDF page is this sharp
MAX_PIXELS = 50_000_000  # a bigger page is scaled down to this before OCR (an A4 page at 300 dpi is 8.7 million)
TESSERACT_OPTIONS = ("--psm", "3")
# Sauvola's local thresholding keeps dark text on grey (shaded cells, stamps) that tesseract's global one loses, and
# drops a scan's speckle; on a page of ink on white it only costs time (a fifth more, bench/corpus_api.py latency)
SAUVOLA = ("-c", "thresholding_method=2")
OCR_NICENESS = 10
CLEAN_PAGE_GREY = 0.01  # ink on white: under 1 % of the pixels mid-grey (anti-aliased edges); a scan has 5 % and up
_LANGUAGE_CODE = re.compile(r"[A-Za-z0-9_]+(?:/[A-Za-z0-9_]+)?")
_FAILED_LANGUAGE = re.compile(r"Failed loading language '([^']+)'")


@dataclass(frozen=True)
class OcrOptions:
    """What the settings say of OCR: languages as tesseract codes ("eng", "eng+deu" or "eng,deu"),
    the time one page may take, and how many pages one upload may have OCR'd."""

    languages: str = "eng"
    page_timeout_seconds: float = 60.0
    max_pages: int = 50
    # The text pass: a document with pages to OCR (within the cap) raises NeedsOcr before any page is OCR'd,
    # for the OCR workers to read.
    deferred: bool = False
    # Where the OCR pass writes "pages done, pages total" after each page (atomically), for its progress.
    progress_path: str | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        codes = tuple(code.strip() for code in re.split(r"[+,\s]+", self.languages) if code.strip())
        for code in codes:
            if not _LANGUAGE_CODE.fullmatch(code):
                raise ValueError(f"{code!r} is no tesseract language code (such as eng, deu, chi_sim)")
        return codes or ("eng",)


def debian_package(code: str) -> str:
    """The Debian package holding a tesseract language: tesseract-ocr-chi-sim for chi_sim."""
    return "tesseract-ocr-" + code.lower().replace("_", "-").replace("/", "-")


def missing_languages(options: OcrOptions) -> list[str] | None:
    """The configured languages tesseract lacks here; None when tesseract itself is missing."""
    if shutil.which(TESSERACT) is None:
        return None
    listed = subprocess.run([TESSERACT, "--list-langs"], capture_output=True, text=True, check=False,
                            stdin=subprocess.DEVNULL)
    installed = set(listed.stdout.split()[1:])  # after a line "List of available languages in ..."
    return [code for code in options.codes if code not in installed]


class Ocr:
    """The OCR of one upload: every page it OCRs, in the upload or in any file it holds, counts against one cap."""

    def __init__(self, options: OcrOptions) -> None:
        self.options = options
        self.languages = "+".join(options.codes)
        self.pages = 0
        self.done = 0

    def reserve(self, pages: int) -> None:
        """Count `pages` about to be OCR'd against the cap before any is, so an upload over it fails at once."""
        self.pages += pages
        if self.pages > self.options.max_pages:
            raise IngestError(
                OCR_PAGE_LIMIT,
                f"The document needs OCR on {self.pages} pages, more than the {self.options.max_pages} "
                "one document may have OCR'd (DOCINTAKE_OCR_MAX_PAGES); split it or raise the limit",
            )
        if pages and self.options.deferred:
            raise NeedsOcr(self.pages)
        self._report()

    def _report(self) -> None:
        if self.options.progress_path is None:
            return
        written = Path(self.options.progress_path + ".tmp")
        written.write_text(f"{self.done} {self.pages}")
        written.replace(self.options.progress_path)

    def read(self, pages: Iterable[tuple[Image.Image, float | None, int]]) -> Iterator[str]:
        """The text tesseract reads in each (image, dpi, page number) of `pages`, else IngestError.

        While tesseract reads a page, a thread takes the next one from `pages` (rendered or decoded) and encodes
        it. tesseract is started only while that thread is idle: the child runs Python before it execs
        (_in_the_child), which is safe only when no other thread is in the middle of something."""
        upcoming = iter(pages)
        preparer = ThreadPoolExecutor(1, thread_name_prefix="ocr-page", initializer=_below_everything)
        try:
            prepared = self._prepare(upcoming)
            while prepared is not None:
                command, png, page = prepared
                tesseract = self._start(command)
                following = preparer.submit(self._prepare, upcoming)
                yield self._text(tesseract, png, page)
                prepared = following.result()
        finally:
            preparer.shutdown(wait=True, cancel_futures=True)  # the caller may close what the pages come from

    def _prepare(self, pages: Iterator[tuple[Image.Image, float | None, int]]) -> tuple[list[str], bytes, int] | None:
        """The next page's tesseract command, its image as PNG, and its number; None after the last."""
        taken = next(pages, None)
        if taken is None:
            return None
        image, dpi, page = taken
        png, scale, clean = _png(image)
        command = [TESSERACT, "stdin", "stdout", "-l", self.languages, *TESSERACT_OPTIONS]
        if not clean:
            command += SAUVOLA
        if dpi:
            command += ["--dpi", str(max(round(dpi * scale), 1))]
        return command, png, page

    def _start(self, command: list[str]) -> "subprocess.Popen[bytes]":
        try:
            return subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env={**os.environ, "OMP_THREAD_LIMIT": "1"}, preexec_fn=_in_the_child,
            )
        except FileNotFoundError as exc:
            raise IngestError(
                OCR_FAILED,
                "OCR is not available on this ingestor: tesseract is not installed "
                "(Debian packages tesseract-ocr and tesseract-ocr-eng)",
                retryable=True,
            ) from exc

    def _text(self, tesseract: "subprocess.Popen[bytes]", png: bytes, page: int) -> str:
        try:
            output, error_output = tesseract.communicate(png, timeout=self.options.page_timeout_seconds)
        except subprocess.TimeoutExpired:
            tesseract.kill()
            tesseract.communicate()
            raise IngestError(
                OCR_TIMEOUT,
                f"OCR of page {page} took longer than {self.options.page_timeout_seconds:g} s and was stopped "
                "(DOCINTAKE_OCR_PAGE_TIMEOUT_SECONDS)",
            ) from None
        errors = error_output.decode(errors="replace")
        if missing := _FAILED_LANGUAGE.findall(errors):
            raise IngestError(
                OCR_FAILED,
                f"OCR language {', '.join(missing)} is not installed on this ingestor "
                f"(Debian package {', '.join(debian_package(code) for code in missing)})",
                retryable=True,
            )
        if tesseract.returncode != 0:
            last = errors.strip().splitlines()[-1:] or [f"exit code {tesseract.returncode}"]
            raise IngestError(OCR_FAILED, f"OCR of page {page} failed: tesseract said {last[0]!r}")
        self.done += 1
        self._report()
        return output.decode("utf-8", errors="replace").replace("\f", "\n")


def read_progress(path: Path) -> tuple[int, int] | None:
    """The pages done and pages total an OCR pass last wrote at `path`; None before it wrote any."""
    try:
        done, total = path.read_text().split()
        return int(done), int(total)
    except (OSError, ValueError):
        return None


def _png(image: Image.Image) -> tuple[bytes, float, bool]:
    """The image as the grayscale PNG tesseract reads (transparency on white, at most MAX_PIXELS), the factor it
    was scaled by, and whether it is clean ink on white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(background, image)
    if image.mode != "L":
        image = image.convert("L")
    factor = min(1.0, (MAX_PIXELS / (image.width * image.height)) ** 0.5)
    if factor < 1.0:
        image = image.resize((max(1, int(image.width * factor)), max(1, int(image.height * factor))))
    histogram = image.histogram()
    clean = sum(histogram[40:216]) < CLEAN_PAGE_GREY * image.width * image.height
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue(), factor, clean


_PR_SET_PDEATHSIG = 1


def _below_everything() -> None:
    """The thread that prepares pages runs as low as tesseract; Linux gives each thread a niceness of its own."""
    if sys.platform == "linux":
        os.nice(OCR_NICENESS)


def _in_the_child() -> None:
    """In the tesseract child: run below everything else, and be killed when the parser process is (a parse past
    its time limit is)."""
    os.nice(OCR_NICENESS)
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the page's own time limit still ends it
        pass
