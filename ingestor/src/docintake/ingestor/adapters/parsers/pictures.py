"""The pictures inside an Office document (Word, PowerPoint, OpenDocument text and presentations), read by OCR where
they carry its only text: a scan pasted into a Word file, a presentation of photographed slides. Each picture is
an OCR'd page of its own, in the order of the package's media folder."""

import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from PIL import Image

from docintake.ingestor.adapters.parsers.images import MAX_IMAGE_PIXELS, PILLOW_FORMATS, dpi_of
from docintake.ingestor.adapters.parsers.ocr import Ocr
from docintake.ingestor.adapters.parsers.text import tidy
from docintake.ingestor.domain.document import Section
from docintake.ingestor.domain.failures import NO_TEXT, IngestError

# where each format keeps its pictures
MEDIA_FOLDERS = {"docx": "word/media/", "pptx": "ppt/media/", "odt": "Pictures/", "odp": "Pictures/"}
MIN_SIDE = 32  # pixels: a smaller picture is a bullet or an icon, no text worth OCR
_NUMBER = re.compile(r"(\d+)")

Extracted = tuple[list[Section], int | None]


def or_pictures(parse: Callable[[Path], Extracted], kind: str) -> Callable[[Path, Ocr], Extracted]:
    """The parser of an Office format that, for a document with no text of its own, reads its pictures by OCR."""

    def read(path: Path, ocr: Ocr) -> Extracted:
        sections, pages = parse(path)
        if any(tidy(section.text) for section in sections):
            return sections, pages
        return picture_sections(path, MEDIA_FOLDERS[kind], ocr), pages

    return read


def picture_sections(path: Path, folder: str, ocr: Ocr) -> list[Section]:
    """A section of OCR'd text per picture of the package's media `folder` that could hold text; none where it has
    no such picture; an IngestError where OCR finds no text in any."""
    with zipfile.ZipFile(path) as package:
        names = [name for name in _media(package, folder) if _could_hold_text(package, name)]
        ocr.reserve(len(names))  # before any is OCR'd: over the cap fails at once, the text pass hands it on
        sections = [Section(text, ocr=True) for text in ocr.read(_pictures(package, names))]
    if names and not any(tidy(section.text) for section in sections):
        raise IngestError(
            NO_TEXT, f"No text: the document has no text of its own, and OCR found none in its {len(names)} pictures"
        )
    return sections


def _pictures(package: zipfile.ZipFile, names: list[str]) -> Iterator[tuple[Image.Image, float | None, int]]:
    for number, name in enumerate(names, start=1):
        with _opened(package, name) as picture:
            yield picture, dpi_of(picture), number


def _media(package: zipfile.ZipFile, folder: str) -> list[str]:
    names = [info.filename for info in package.infolist() if info.filename.startswith(folder) and not info.is_dir()]
    return sorted(names, key=lambda name: [int(part) if part.isdigit() else part for part in _NUMBER.split(name)])


def _could_hold_text(package: zipfile.ZipFile, name: str) -> bool:
    """A picture Pillow decodes (not a vector drawing), big enough to show text, not so big it is a bomb."""
    try:
        with _opened(package, name) as picture:
            width, height = picture.size
    except Exception:  # EMF, WMF, SVG and damaged pictures: nothing OCR can read
        return False
    return min(width, height) >= MIN_SIDE and width * height <= MAX_IMAGE_PIXELS


def _opened(package: zipfile.ZipFile, name: str) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(package.read(name)), formats=list(PILLOW_FORMATS.values()))
