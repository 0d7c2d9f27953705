"""The long tail of formats, on documents these tests write: OpenDocument, EPUB, RTF, ZIP archives (nested and
bounded), and the OLE2 containers of legacy Office and Outlook told apart by their streams."""

import io
import zipfile

import pytest

from docintake.ingestor.adapters.parsers import members
from docintake.ingestor.adapters.parsers.detect import detect_type
from docintake.ingestor.adapters.parsers.formats import parse_file
from docintake.ingestor.domain import failures
from docintake.ingestor.domain.document import ParsedDocument
from docintake.ingestor.domain.failures import IngestError
from tests.support import documents

_ODF_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"'
)


def _zip(files: dict[str, bytes | str], mimetype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if mimetype is not None:  # an ODF or EPUB package names its type in a first, stored member
            archive.writestr(zipfile.ZipInfo("mimetype"), mimetype)
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _opendocument(kind: str, body: str) -> bytes:
    mimetype = f"application/vnd.oasis.opendocument.{kind}"
    content = f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NAMESPACES} ' \
              f'office:version="1.2"><office:body>{body}</office:body></office:document-content>'
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    return _zip({"content.xml": content, "META-INF/manifest.xml": manifest}, mimetype)


def _epub(heading: str, paragraph: str) -> bytes:
    container = (
        '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    package = (
        '<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<dc:identifier id="id">guide</dc:identifier><dc:title>Field guide</dc:title><dc:language>en</dc:language>'
        '</metadata><manifest><item id="c1" href="chapter1.xhtml" media-type="application/xhtml+xml"/>'
        '</manifest><spine><itemref idref="c1"/></spine></package>'
    )
    chapter = (
        '<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>One'
        f"</title></head><body><h1>{heading}</h1><p>{paragraph}</p></body></html>"
    )
    files = {"META-INF/container.xml": container, "OEBPS/content.opf": package, "OEBPS/chapter1.xhtml": chapter}
    return _zip(files, "application/epub+zip")




def parse(write, name: str, data: bytes, **options) -> ParsedDocument:
    return parse_file(write(name, data), filename_hint=name, **options)


def failure(write, name: str, data: bytes, **options) -> IngestError:
    with pytest.raises(IngestError) as caught:
        parse(write, name, data, **options)
    return caught.value


def text_of(document: ParsedDocument) -> str:
    return "\n".join(section.text for section in document.sections)


def test_odt_text_and_headings_are_read(write):
    body = (
        '<office:text><text:h text:outline-level="1">Warehouse audit</text:h>'
        "<text:p>The ledger balanced in March.</text:p></office:text>"
    )

    document = parse(write, "audit.odt", _opendocument("text", body))

    assert document.detected_type == "odt"
    assert "Warehouse audit" in text_of(document)
    assert "The ledger balanced in March." in text_of(document)


def test_ods_cells_are_read(write):
    cells = "".join(
        f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
        for value in ("Supplier", "Invoice")
    )
    body = f'<office:spreadsheet><table:table table:name="Budget"><table:table-row>{cells}' \
           "</table:table-row></table:table></office:spreadsheet>"

    document = parse(write, "budget.ods", _opendocument("spreadsheet", body))

    assert document.detected_type == "ods"
    assert all(word in text_of(document) for word in ("Budget", "Supplier", "Invoice"))


def test_odp_gives_a_section_per_slide_titled_by_the_slide(write):
    def slide(title: str, text: str) -> str:
        return (
            f'<draw:page><draw:frame presentation:class="title"><draw:text-box><text:p>{title}</text:p>'
            f"</draw:text-box></draw:frame><draw:frame><draw:text-box><text:p>{text}<text:s text:c=\"2\"/>"
            "<text:span>now</text:span></text:p></draw:text-box></draw:frame></draw:page>"
        )

    body = f"<office:presentation>{slide('Roadmap', 'Milestones')}{slide('Procurement', 'Vendors')}" \
           "</office:presentation>"

    document = parse(write, "plan.odp", _opendocument("presentation", body))

    assert document.detected_type == "odp"
    assert document.pages == 2
    assert [(section.page, section.heading, section.text) for section in document.sections] == [
        (1, "Roadmap", "Roadmap\nMilestones  now"),
        (2, "Procurement", "Procurement\nVendors  now"),
    ]


def test_epub_chapters_are_read(write):
    document = parse(write, "guide.epub", _epub("Alpine glaciers", "Snowfall feeds the glacier every winter."))

    assert document.detected_type == "epub"
    assert "Alpine glaciers" in text_of(document)
    assert "Snowfall feeds the glacier every winter." in text_of(document)


def test_rtf_written_by_hand_is_read(write):
    data = rb"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}\f0\fs24 Quarterly \b compliance\b0  review\par Payroll next\par}"

    document = parse(write, "review.rtf", data)

    assert document.detected_type == "rtf"
    assert "Quarterly compliance review" in text_of(document)
    assert "Payroll next" in text_of(document)


def test_zip_members_are_read_and_headed_by_their_paths_nested_archives_too(write):
    inner = _zip({"minutes/board.txt": "The board approved the budget."})
    data = _zip({
        "notes.txt": "Renewal pricing agreed.",
        "reports/summary.docx": documents.docx([("Shipment delays", ["Logistics improved in May."])]),
        "older.zip": inner,
    })

    document = parse(write, "bundle.zip", data)

    assert document.detected_type == "zip"
    assert [(" > ".join(section.heading_path), section.text) for section in document.sections] == [
        ("notes.txt", "Renewal pricing agreed."),
        ("reports/summary.docx > Shipment delays", "Shipment delays\nLogistics improved in May."),
        ("older.zip > minutes/board.txt", "The board approved the budget."),
    ]


def test_zip_members_without_text_are_left_out(write):
    data = _zip({"picture.png": documents.png(), "empty.txt": b"", "readme.txt": "Install the ledger."})

    document = parse(write, "mixed.zip", data)

    assert [section.heading for section in document.sections] == ["readme.txt"]


def test_zip_whose_files_have_no_text_fails_naming_each_and_why(write):
    error = failure(write, "pictures.zip", _zip({"scan.png": documents.png(), "empty.txt": b""}))

    assert error.code == failures.NO_TEXT
    assert "scan.png: No text: OCR found no text in the image" in error.message
    assert "empty.txt: The file is empty" in error.message


def test_empty_zip_fails_as_holding_no_files(write):
    assert failure(write, "nothing.zip", _zip({})).message == "The archive holds no files"


def test_archives_nested_too_deep_are_refused(write):
    data = _zip({"deepest.txt": "found"})
    for level in range(members.MAX_DEPTH):
        data = _zip({f"level-{level}.zip": data})

    error = failure(write, "russian-doll.zip", data)

    assert error.code == failures.ARCHIVE_TOO_LARGE
    assert f"more than {members.MAX_DEPTH} deep" in error.message


def test_archives_nested_as_deep_as_allowed_are_read(write):
    data = _zip({"deepest.txt": "found"})
    for level in range(members.MAX_DEPTH - 1):
        data = _zip({f"level-{level}.zip": data})

    assert text_of(parse(write, "doll.zip", data)) == "found"


def test_archives_with_too_many_files_are_refused(write, monkeypatch):
    monkeypatch.setattr(members, "MAX_MEMBERS", 3)
    data = _zip({"a.txt": "a", "b.zip": _zip({"c.txt": "c", "d.txt": "d"})})

    error = failure(write, "many.zip", data)

    assert error.code == failures.ARCHIVE_TOO_LARGE
    assert "more than 3 files" in error.message


def test_nested_zip_bomb_is_refused(write):
    data = _zip({"innocent.txt": "hello", "payload.zip": documents.zip_bomb()})

    error = failure(write, "nested-bomb.zip", data)

    assert error.code == failures.ARCHIVE_TOO_LARGE


def test_expansion_limit_holds_across_every_level_of_nesting(write):
    # each archive declares less than the limit; unpacked together, their files are more
    inner = _zip({"ledger.txt": "ledger " * 120})
    data = _zip({f"part-{number}.zip": inner for number in range(3)})

    error = failure(write, "parts.zip", data, max_expanded_bytes=2000)
    document = parse(write, "parts.zip", data, max_expanded_bytes=10_000)

    assert error.code == failures.ARCHIVE_TOO_LARGE
    assert [section.heading_path for section in document.sections] == [
        (f"part-{n}.zip", "ledger.txt") for n in range(3)
    ]


def test_zip_member_with_damaged_bytes_is_left_out(write):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("good.txt", "Readable text.")
        archive.writestr("bad.txt", "Damaged text.")
    data = buffer.getvalue().replace(b"Damaged text.", b"Damaged TEXT.")  # stored bytes that fail their CRC

    document = parse(write, "damaged.zip", data)

    assert [(" > ".join(section.heading_path), section.text) for section in document.sections] == [
        ("good.txt", "Readable text.")
    ]


@pytest.mark.parametrize(
    ("streams", "kind"),
    [
        (["WordDocument", "1Table"], "doc"),
        (["Workbook"], "xls"),
        (["Book"], "xls"),
        (["PowerPoint Document", "Current User"], "ppt"),
        (["__properties_version1.0", "__nameid_version1.0"], "msg"),
    ],
)
def test_ole_containers_are_told_apart_by_their_streams(write, streams, kind):
    assert detect_type(write("upload.bin", documents.ole_file(streams))) == kind


def test_legacy_office_file_whose_streams_are_damaged_fails_with_its_format_named(write):
    error = failure(write, "empty-streams.doc", documents.legacy_doc())

    assert error.code == failures.CORRUPT_FILE
    assert error.message == "The Word 97-2003 document could not be read; the file may be damaged or incomplete"


def test_damaged_ole_directory_is_corrupt(write):
    data = documents.legacy_doc()

    assert failure(write, "cut.doc", data[:600]).code == failures.CORRUPT_FILE
