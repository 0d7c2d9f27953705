"""Failures stay honest: a password-protected, empty, blank or truncated file of any format fails with its own code
and a message that says what is wrong, never as an empty success. Files these tests write."""

import io
import shutil
import zipfile

import docx
import pytest
from PIL import Image

from docintake.ingestor.adapters.parsers.formats import parse_file
from docintake.ingestor.domain import failures
from docintake.ingestor.domain.failures import IngestError
from tests.support import documents
from tests.unit.ingestor import scans


def failure(tmp_path, name: str, data: bytes) -> IngestError:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IngestError) as caught:
        parse_file(path, name)
    return caught.value


def blank_docx() -> bytes:
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    return buffer.getvalue()


def cut(data: bytes) -> bytes:
    return data[: len(data) * 2 // 3]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        pytest.param("minutes.pdf", documents.encrypted_pdf(),
                     "The PDF is password-protected; remove the password and upload it again", id="pdf"),
        pytest.param("salaries.xlsx", documents.encrypted_office(),
                     "The Office document is password-protected; remove the password and upload it again",
                     id="office"),
    ],
)
def test_a_password_protected_file_fails_as_encrypted_saying_so(tmp_path, name, data, message):
    error = failure(tmp_path, name, data)

    assert (error.code, error.message) == (failures.ENCRYPTED, message)


def test_an_archive_of_password_protected_files_fails_as_encrypted_naming_them(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "Quarterly figures")
    flagged = bytearray(buffer.getvalue())
    for header in (b"PK\x03\x04", b"PK\x01\x02"):  # the encryption flag of the member's local and central headers
        at = flagged.find(header)
        flag_offset = at + (6 if header == b"PK\x03\x04" else 8)
        flagged[flag_offset] |= 0x01

    error = failure(tmp_path, "secret.zip", bytes(flagged))

    assert (error.code, error.message) == (
        failures.ENCRYPTED, "No file in the archive has text: notes.txt: The file is password-protected"
    )


@pytest.mark.parametrize("name", ["empty.pdf", "empty.docx", "empty.txt", "empty.png"])
def test_an_empty_file_of_any_name_fails_as_empty(tmp_path, name):
    error = failure(tmp_path, name, b"")

    assert (error.code, error.message) == (failures.EMPTY_FILE, "The file is empty")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        pytest.param("blank.docx", blank_docx(),
                     "No extractable text: the document is blank (no text, and no picture that could hold any)",
                     id="docx"),
        pytest.param("blank.pdf", documents.pdf(["", ""]),
                     "No text: the PDF has no text layer, and OCR found no text on its pages (they may be blank)",
                     id="pdf"),
        pytest.param("blank.txt", b" \n\t\n", "No extractable text: the file is blank", id="text"),
    ],
)
def test_a_blank_file_fails_as_having_no_text_saying_why(tmp_path, name, data, message):
    error = failure(tmp_path, name, data)

    assert (error.code, error.message) == (failures.NO_TEXT, message)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_a_picture_with_no_text_after_ocr_fails_as_having_none(tmp_path):
    error = failure(tmp_path, "photo.png", scans.encoded(Image.new("L", (600, 400), 200), "PNG"))

    assert (error.code, error.message) == (failures.NO_TEXT, "No text: OCR found no text in the image")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        pytest.param("cut.pdf", documents.truncated_pdf(),
                     "The PDF is damaged or incomplete and could not be read", id="pdf"),
        pytest.param("cut.docx", cut(documents.docx([("Heading", ["Body text."] * 50)])),
                     "The ZIP-based file (such as .docx, .xlsx or .pptx) is damaged or incomplete", id="docx"),
        pytest.param("cut.xlsx", cut(documents.xlsx({"Sheet": [["a", "b"]] * 200})),
                     "The ZIP-based file (such as .docx, .xlsx or .pptx) is damaged or incomplete", id="xlsx"),
        pytest.param("cut.png", cut(scans.encoded(scans.text_image(scans.INVOICE, size=(1200, 400)), "PNG")),
                     "The PNG image could not be read; the file may be damaged or incomplete", id="png"),
    ],
)
def test_a_truncated_file_fails_as_corrupt_saying_it_may_be_incomplete(tmp_path, name, data, message):
    error = failure(tmp_path, name, data)

    assert (error.code, error.message) == (failures.CORRUPT_FILE, message)
