"""What a file really is, judged from its content; the filename only tells apart kinds of text."""

import re
import zipfile
from pathlib import Path, PurePath

import olefile

from docintake.ingestor.adapters.parsers.text import bom_encoding, bomless_utf16
from docintake.ingestor.domain.failures import (
    ARCHIVE_TOO_LARGE,
    CORRUPT_FILE,
    EMPTY_FILE,
    ENCRYPTED,
    UNSUPPORTED_FORMAT,
    IngestError,
)

MiB = 1024 * 1024
_HEAD = 8192
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_MAX_RATIO, _RATIO_FLOOR = 200, 10 * MiB

# images, read by OCR
_IMAGE_MAGICS = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
_BMP_HEADER_SIZES = frozenset((12, 40, 52, 56, 64, 108, 124))  # the DIB headers there are
_BINARY_MAGICS = (
    (b"\x1f\x8b", "gzip archive; upload the files it contains, or a ZIP archive of them"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive; upload the files it contains, or a ZIP archive of them"),
    (b"Rar!", "RAR archive; upload the files it contains, or a ZIP archive of them"),
)

# streams at the root of an OLE2 compound file; the first match wins
_OLE_KINDS = (
    (("WordDocument",), "doc"),
    (("Workbook", "Book"), "xls"),
    (("PowerPoint Document",), "ppt"),
    (("__properties_version1.0",), "msg"),
)
_OLE_ENCRYPTED = ("EncryptionInfo", "EncryptedPackage")
_OLE_OTHER = "Unsupported format: Microsoft compound document that is no Word, Excel, PowerPoint or Outlook file"

_OOXML_KINDS = (("word/", "docx"), ("ppt/", "pptx"), ("xl/", "xlsx"))
_ZIP_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
    b"application/epub+zip": "epub",
}
_OPENDOCUMENT = b"application/vnd.oasis.opendocument."

# bytes that do not occur in text, except as a few stray ones
_CONTROL_BYTES = bytes([*range(0, 9), *range(14, 27), *range(28, 32), 127])
_HTML_START = re.compile(
    r"\s*(<\?xml[^>]*>\s*)?(<!--(?:(?!-->).)*-->\s*)*(<!doctype\s+html|<html)", re.IGNORECASE | re.DOTALL
)
_HEADER_LINE = re.compile(r"([!-9;-~]+):")
_MAIL_HEADERS = frozenset(
    "from to cc subject date received message-id mime-version return-path reply-to delivered-to "
    "content-type x-mailer".split()
)
_TEXT_KINDS = {
    ".md": "markdown", ".markdown": "markdown",
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
}
_HTML_EXTENSIONS = {".html", ".htm", ".xhtml"}
_JSON_EXTENSIONS = {".json", ".ndjson", ".jsonl"}


def detect_type(path: Path, filename_hint: str = "", max_expanded_bytes: int = 256 * MiB) -> str:
    """One of pdf, docx, pptx, xlsx, doc, xls, ppt, msg, odt, ods, odp, epub, rtf, zip, png, jpeg, tiff, gif, bmp,
    webp, text, markdown, csv, tsv, html, eml, json; else an IngestError."""
    with path.open("rb") as file:
        head = file.read(_HEAD)
    if not head:
        raise IngestError(EMPTY_FILE, "The file is empty")
    if _is_pdf(head):
        return "pdf"
    if head.startswith(_OLE_MAGIC):
        return _ole_kind(path)
    if head.startswith(_ZIP_MAGICS):
        return _zip_kind(path, max_expanded_bytes)
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if image := _image_kind(head):
        return image
    for magic, name in _BINARY_MAGICS:
        if head.startswith(magic):
            raise IngestError(UNSUPPORTED_FORMAT, f"Unsupported format: {name}")
    return _text_kind(head, PurePath(filename_hint).suffix.lower())


def _image_kind(head: bytes) -> str | None:
    for magic, kind in _IMAGE_MAGICS:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    # "BM" alone could start a text: the DIB header's size must be one of the real ones
    if head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "bmp"
    return None


def _is_pdf(head: bytes) -> bool:
    """PDF readers accept junk before the header, but a text that merely mentions "%PDF-" is no PDF."""
    position = head.find(b"%PDF-", 0, 1024)
    prefix = head[:max(position, 0)]
    return position >= 0 and (not prefix.strip() or len(prefix.translate(None, _CONTROL_BYTES)) < len(prefix))


def _ole_kind(path: Path) -> str:
    try:
        with olefile.OleFileIO(str(path)) as container:
            streams = {entry[0] for entry in container.listdir(streams=True, storages=False) if len(entry) == 1}
    except Exception as exc:  # olefile fails with whatever a damaged directory makes it hit
        raise IngestError(CORRUPT_FILE, "The Office file (OLE compound document) is damaged or incomplete") from exc
    if streams.issuperset(_OLE_ENCRYPTED):
        raise IngestError(
            ENCRYPTED, "The Office document is password-protected; remove the password and upload it again"
        )
    for names, kind in _OLE_KINDS:
        if streams.intersection(names):
            return kind
    raise IngestError(UNSUPPORTED_FORMAT, _OLE_OTHER)


def _zip_kind(path: Path, max_expanded_bytes: int) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_expansion(members, max_expanded_bytes)
            names = {member.filename for member in members}
            mimetype = archive.read("mimetype")[:100].strip() if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise IngestError(
            CORRUPT_FILE, "The ZIP-based file (such as .docx, .xlsx or .pptx) is damaged or incomplete"
        ) from exc
    if "[Content_Types].xml" in names:
        if "word/vbaProject.bin" in names:
            raise IngestError(
                UNSUPPORTED_FORMAT,
                "Unsupported format: macro-enabled Word document (.docm); save it as .docx",
            )
        for prefix, kind in _OOXML_KINDS:
            if any(name.startswith(prefix) for name in names):
                return kind
    if mimetype in _ZIP_MIMETYPES:
        return _ZIP_MIMETYPES[mimetype]
    if mimetype.startswith(_OPENDOCUMENT):
        raise IngestError(
            UNSUPPORTED_FORMAT,
            f"Unsupported format: OpenDocument {mimetype[len(_OPENDOCUMENT):].decode(errors='replace')}; "
            "only text, spreadsheets and presentations are read",
        )
    return "zip"


def _check_expansion(members: list[zipfile.ZipInfo], limit: int) -> None:
    """Refuse zip bombs from the sizes the archive declares, before anything decompresses it."""
    if sum(member.file_size for member in members) > limit:
        raise IngestError(
            ARCHIVE_TOO_LARGE, f"The archive expands to more than {limit // MiB} MiB (zip bomb protection)"
        )
    for member in members:
        if member.file_size > _RATIO_FLOOR and member.file_size > _MAX_RATIO * max(member.compress_size, 1):
            raise IngestError(
                ARCHIVE_TOO_LARGE,
                f"The archive contains a part compressed more than {_MAX_RATIO} to 1 (zip bomb protection)",
            )


def _text_kind(head: bytes, extension: str) -> str:
    encoding = bom_encoding(head) or bomless_utf16(head)
    if encoding is None and len(head) - len(head.translate(None, _CONTROL_BYTES)) > len(head) // 100:
        raise IngestError(UNSUPPORTED_FORMAT, "Unsupported format: binary file of unknown type")
    sample = head.decode(encoding or "utf-8", errors="replace")
    if _HTML_START.match(sample) or (extension in _HTML_EXTENSIONS and sample.lstrip().startswith("<")):
        return "html"
    if _looks_like_mail(sample, extension):
        return "eml"
    if extension in _JSON_EXTENSIONS and sample.lstrip()[:1] in ("{", "["):
        return "json"
    return _TEXT_KINDS.get(extension, "text")


def _looks_like_mail(sample: str, extension: str) -> bool:
    """RFC 822 headers at the top: any with an .eml name, else at least two well-known ones."""
    lines = sample.lstrip("\r\n").split("\n")[:-1]  # the last line may be cut short
    if lines and lines[0].startswith("From "):  # an mbox separator
        lines = lines[1:]
    names: list[str] = []
    for line in lines:
        if not line.strip():
            break
        if line[0] in " \t" and names:
            continue
        match = _HEADER_LINE.match(line)
        if match is None:
            return False
        names.append(match.group(1).lower())
    known = len(_MAIL_HEADERS.intersection(names))
    return bool(names) and (extension == ".eml" or known >= 2)
