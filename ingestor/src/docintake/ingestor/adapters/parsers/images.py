"""Images (PNG, JPEG, TIFF, BMP, WebP, GIF), read by OCR: every page of a multi-page TIFF, the first frame of an
animation. Pillow decodes them; each page's text is what tesseract reads in it."""

import warnings
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from docintake.ingestor.adapters.parsers.ocr import Ocr
from docintake.ingestor.domain.document import Section
from docintake.ingestor.domain.failures import IMAGE_TOO_LARGE, IngestError

# the detected type, and the one Pillow decoder that may open it: Pillow never guesses
PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF", "bmp": "BMP", "webp": "WEBP", "gif": "GIF"}
MAX_IMAGE_PIXELS = 2 * (Image.MAX_IMAGE_PIXELS or 89_478_485)  # Pillow's decompression bomb limit
_DPI_RANGE = (70, 1200)  # a resolution outside it is no scanner's; tesseract then estimates its own


def parse_image(path: Path, ocr: Ocr, kind: str) -> tuple[list[Section], int | None]:
    """A section per page, its text from OCR, and the page count."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # big scans are scaled down for OCR
        try:
            image = Image.open(path, formats=[PILLOW_FORMATS[kind]])
        except Image.DecompressionBombError as exc:
            raise _too_large() from exc
        with image:
            pages = getattr(image, "n_frames", 1) if kind == "tiff" else 1
            ocr.reserve(pages)
            texts = list(ocr.read(_frames(image, pages)))
    return [Section(text, page=number, ocr=True) for number, text in enumerate(texts, start=1)], pages


def _frames(image: Image.Image, pages: int) -> Iterator[tuple[Image.Image, float | None, int]]:
    for index in range(pages):
        image.seek(index)
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise _too_large()
        yield image, dpi_of(image), index + 1


def dpi_of(image: Image.Image) -> float | None:
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if isinstance(dpi, tuple) else float(dpi) if dpi else None
    except (TypeError, ValueError):
        return None
    return value if value is not None and _DPI_RANGE[0] <= value <= _DPI_RANGE[1] else None


def _too_large() -> IngestError:
    return IngestError(
        IMAGE_TOO_LARGE,
        f"The image has more than {MAX_IMAGE_PIXELS // 1_000_000} million pixels (decompression bomb protection)",
    )
