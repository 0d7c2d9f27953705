"""Type detection and text extraction over generated documents of every supported format."""

import io
import json
import pickle
import time
import zipfile
from pathlib import Path

import pytest
from pebble import ProcessPool

from docintake.ingestor.adapters.parsers.detect import detect_type
from docintake.ingestor.adapters.parsers.formats import parse_file
from docintake.ingestor.adapters.parsers.text import decode_text, tidy
from docintake.ingestor.domain import failures
from docintake.ingestor.domain.document import ParsedDocument, Section
from docintake.ingestor.domain.failures import IngestError
from tests.support import documents


def parse(write, name: str, data: bytes) -> ParsedDocument:
    return parse_file(write(name, data), filename_hint=name)


def failure(write, name: str, data: bytes, **options) -> IngestError:
    with pytest.raises(IngestError) as caught:
        parse_file(write(name, data), filename_hint=name, **options)
    return caught.value


def text_of(document: ParsedDocument) -> str:
    return "\n".join(section.text for section in document.sections)


def test_pdf_gives_a_section_per_page_with_its_number(write):
    data = documents.pdf(["Quarterly revenue grew.", "", "Costs fell sharply."])

    document = parse(write, "report.pdf", data)

    assert document.detected_type == "pdf"
    assert document.pages == 3
    assert [(section.page, section.text) for section in document.sections] == [
        (1, "Quarterly revenue grew."),
        (3, "Costs fell sharply."),
    ]


def test_type_comes_from_content_not_from_the_filename(write):
    document = parse(write, "notes.txt", documents.pdf(["Really a PDF"]))

    assert document.detected_type == "pdf"
    assert document.sections[0] == Section("Really a PDF", page=1)


def test_a_text_that_mentions_the_pdf_header_is_still_text(write):
    document = parse(write, "notes.md", b"# PDF internals\nA PDF starts with %PDF-1.7 and ends with %%EOF.\n")

    assert document.detected_type == "markdown"


def test_password_protected_pdf_is_reported_as_encrypted(write):
    error = failure(write, "secret.pdf", documents.encrypted_pdf())

    assert error.code == failures.ENCRYPTED
    assert "password" in error.message


def test_truncated_pdf_is_reported_as_corrupt(write):
    error = failure(write, "cut.pdf", documents.truncated_pdf())

    assert error.code == failures.CORRUPT_FILE
    assert "PDF" in error.message


def test_pdf_of_a_picture_without_text_has_no_text_even_after_ocr(write):
    error = failure(write, "scan.pdf", documents.image_pdf())

    assert error.code == failures.NO_TEXT
    assert "OCR found no text" in error.message


def test_docx_sections_follow_headings_and_include_tables(write):
    data = documents.docx(
        [("Introduction", ["Why we measure."]), ("Results", ["Latency halved."])],
        table=[["Service", "p99"], ["gateway", "12 ms"]],
    )

    document = parse(write, "study.docx", data)

    assert document.detected_type == "docx"
    assert [section.heading for section in document.sections] == ["Introduction", "Results"]
    assert document.sections[0].text == "Introduction\nWhy we measure."
    assert document.sections[1].text.startswith("Results\nLatency halved.")
    assert "| Service | p99 |\n| --- | --- |\n| gateway | 12 ms |" in document.sections[1].text


def test_pptx_gives_a_section_per_slide_titled_by_the_slide(write):
    data = documents.pptx([("Roadmap", "Ship the ingestor"), ("Risks", "Zip bombs")])

    document = parse(write, "deck.pptx", data)

    assert document.detected_type == "pptx"
    assert document.pages == 2
    assert [(s.page, s.heading) for s in document.sections] == [(1, "Roadmap"), (2, "Risks")]
    assert "Ship the ingestor" in document.sections[0].text
    assert "Zip bombs" in document.sections[1].text


def test_xlsx_gives_a_section_per_sheet_as_a_markdown_table_its_number_the_page(write):
    stock = [["Item", "Count"], ["bolt", 3.0], [None, None], ["nut", 12.5]]
    data = documents.xlsx({"Stock": stock, "Empty": []})

    document = parse(write, "stock.xlsx", data)

    assert document.detected_type == "xlsx"
    table = "| Item | Count |\n| --- | --- |\n| bolt | 3 |\n| nut | 12.5 |"
    assert document.sections == (Section(table, page=1, heading_path=("Stock",)),)


def test_markdown_sections_follow_atx_headings_but_not_inside_code(write):
    data = b"Preamble\n\n# Setup\nInstall it.\n```\n# not a heading\n```\n## Usage ##\nRun it.\n"

    document = parse(write, "guide.md", data)

    assert document.detected_type == "markdown"
    assert [section.heading for section in document.sections] == [None, "Setup", "Usage"]
    assert "# not a heading" in document.sections[1].text


def test_csv_rows_under_a_header_become_a_markdown_table(write):
    rows = [["team", "city", "cups"], ["Canadiens", "Montreal", "24"], ["Bruins", "", "6"]]

    document = parse(write, "teams.csv", documents.csv_bytes(rows, delimiter=";"))

    assert document.detected_type == "csv"
    assert text_of(document) == (
        "| team | city | cups |\n| --- | --- | --- |\n| Canadiens | Montreal | 24 |\n| Bruins |  | 6 |"
    )


def test_csv_rows_without_a_header_are_a_markdown_table_under_column_numbers(write):
    rows = [["Lorem, ipsum", "dolor"], ["sit", "amet"], ["consectetur", "adipiscing"]]

    document = parse(write, "words.csv", documents.csv_bytes(rows))

    assert text_of(document) == (
        "| Column 1 | Column 2 |\n| --- | --- |\n| Lorem, ipsum | dolor |\n| sit | amet |\n| consectetur | adipiscing |"
    )


def test_tsv_is_split_at_tabs(write):
    document = parse(write, "teams.tsv", b"team\tcity, state\tcups\nRangers\tNew York, NY\t4\n")

    assert document.detected_type == "tsv"
    assert text_of(document) == "| team | city, state | cups |\n| --- | --- | --- |\n| Rangers | New York, NY | 4 |"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(documents.csv_bytes([["note", "n"], ["x" * 200_000, "1"]]), id="field over csv limit"),
        pytest.param(b"Lorem, ipsum\ndolor sit\namet; consectetur, adipiscing\n", id="no clear delimiter"),
    ],
)
def test_malformed_csv_still_yields_its_text(write, data):
    document = parse(write, "broken.csv", data)

    assert text_of(document) == data.decode().replace("\r\n", "\n").strip()


def test_html_drops_scripts_and_starts_sections_at_headings(write):
    sections = [("Leave", ["Ask your manager.", "Book it early."]), ("Expenses", ["Keep receipts."])]
    data = documents.html("Handbook", sections)

    document = parse(write, "handbook.html", data)

    assert document.detected_type == "html"
    assert [section.heading for section in document.sections] == ["Leave", "Expenses"]
    assert document.sections[0].text == "Leave\nAsk your manager.\nBook it early."
    assert "NOISE" not in text_of(document)


def test_html_with_deeply_nested_inline_elements_keeps_every_word_and_its_blocks(write):
    data = ("<html><body><h2>Deep</h2><p>" + "<b><i><span>word " * 20_000 + "</p><p>after</p></body></html>").encode()

    document = parse(write, "deep.html", data)

    assert document.sections[0].heading == "Deep"
    assert document.sections[0].text.split("\n") == ["Deep", " ".join(["word"] * 20_000), "after"]


def test_html_declared_charset_is_respected(write):
    data = documents.html("Café", [("Menü", ["Crème brûlée for 5 €"])], charset="cp1252")

    document = parse(write, "menu.htm", data)

    assert document.sections[0].heading == "Menü"
    assert "Crème brûlée for 5 €" in text_of(document)


def test_email_has_subject_as_heading_and_the_plain_body(write):
    data = documents.eml("Budget approved", "The budget is approved.", attachment=("budget.xlsx", b"x"))

    document = parse(write, "mail.eml", data)

    assert document.detected_type == "eml"
    (section,) = document.sections
    assert section.heading == "Budget approved"
    assert "From: Ada Lovelace <ada@example.org>" in section.text
    assert "The budget is approved." in section.text
    assert "Attachments: budget.xlsx" in section.text


def test_html_only_email_body_is_converted_to_text(write):
    message = documents.eml("Hello", "placeholder", html_body="<p>Hi <b>team</b></p><p>Bye</p>")
    html_only = message.replace(b"placeholder", b"").replace(b"text/plain", b"text/x-ignored")

    document = parse(write, "mail.eml", html_only)

    assert "Hi team\nBye" in text_of(document)
    assert "<p>" not in text_of(document)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("“Quoted” price: 5 €".encode("cp1252"), id="cp1252"),
        pytest.param("Grüße – 5 €".encode(), id="utf-8"),
    ],
)
def test_email_labelled_latin1_is_read_as_mail_clients_read_it(write, body):
    headers = b"From: a@example.org\nSubject: Prices\nContent-Type: text/plain; charset=iso-8859-1\n\n"

    document = parse(write, "prices.eml", headers + body)

    assert text_of(document).endswith(body.decode("utf-8" if b"\xc3" in body else "cp1252"))


def test_email_is_recognised_by_its_headers_whatever_its_name(write):
    assert parse(write, "forwarded.txt", documents.eml("Minutes", "Notes.")).detected_type == "eml"


def test_json_is_pretty_printed_and_ndjson_kept_a_record_per_line(write):
    pretty = parse(write, "config.json", b'{"name":"docintake","tags":["a","b"]}')
    lines = parse(write, "events.ndjson", b'{"id": 1}\n{"id": 2}\n')

    assert json.loads(text_of(pretty)) == {"name": "docintake", "tags": ["a", "b"]}
    assert "\n  " in text_of(pretty)
    assert text_of(lines) == '{"id": 1}\n{"id": 2}'


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(documents.utf16_text("Grüße aus\r\nKöln"), "Grüße aus\nKöln", id="utf-16 BOM"),
        pytest.param("Grüße aus Köln".encode(), "Grüße aus Köln", id="utf-8 without BOM"),
        pytest.param("Crème à la française 15 €".encode("cp1252"), "Crème à la française 15 €", id="cp1252"),
    ],
)
def test_text_encodings_are_decoded(write, data, expected):
    document = parse(write, "note.txt", data)

    assert document.detected_type == "text"
    assert text_of(document) == expected


def test_tidy_removes_control_characters_and_rejoins_words_hyphenated_by_pdfium():
    assert tidy("  ef\ufffeficient\x00 text \x0cnext\n\n\n\nend \n") == "efficient text\nnext\n\nend"


def test_decode_text_handles_utf32_and_bomless_utf16():
    assert decode_text("Über\r".encode("utf-32")) == "Über\n"
    assert decode_text("plain words here".encode("utf-16-le")) == "plain words here"


def test_empty_file(write):
    error = failure(write, "empty.pdf", documents.empty())

    assert (error.code, error.message) == (failures.EMPTY_FILE, "The file is empty")


def test_whitespace_only_text_has_no_text(write):
    assert failure(write, "blank.txt", b" \n\t\n").code == failures.NO_TEXT


@pytest.mark.parametrize(
    ("data", "named"),
    [
        pytest.param(b"Rar!\x1a\x07\x00" + bytes(64), "RAR archive", id="rar"),
        pytest.param(documents.ole_file(["Contents"]), "compound document", id="other OLE file"),
        pytest.param(b"\x1f\x8b\x08\x00" + bytes(64), "gzip archive", id="gzip"),
        pytest.param(bytes(range(256)) * 4, "binary", id="other binary"),
    ],
)
def test_unsupported_formats_are_named(write, data, named):
    error = failure(write, "upload.docx", data)

    assert error.code == failures.UNSUPPORTED_FORMAT
    assert named in error.message


def test_password_protected_office_document_is_reported_as_encrypted(write):
    error = failure(write, "salaries.xlsx", documents.encrypted_office())

    assert error.code == failures.ENCRYPTED
    assert "password" in error.message


def test_zip_bomb_is_refused_quickly(write):
    path = write("bomb.docx", documents.zip_bomb())

    started = time.perf_counter()
    with pytest.raises(IngestError) as caught:
        parse_file(path, "bomb.docx")

    assert caught.value.code == failures.ARCHIVE_TOO_LARGE
    assert "256 MiB" in caught.value.message
    assert time.perf_counter() - started < 1


def test_absurd_compression_ratio_is_refused_below_the_size_limit(write):
    error = failure(write, "small-bomb.docx", documents.zip_bomb(20 * documents.MiB))

    assert error.code == failures.ARCHIVE_TOO_LARGE


def test_expansion_limit_is_configurable(write):
    data = documents.docx([("Heading", ["Body"])])

    error = failure(write, "tiny-limit.docx", data, max_expanded_bytes=1000)

    assert error.code == failures.ARCHIVE_TOO_LARGE


def test_zip_that_is_not_office_is_read_as_an_archive(write):
    document = parse(write, "bundle.docx", _zip({"notes.txt": b"hello"}))

    assert (document.detected_type, document.sections) == ("zip", (Section("hello", heading_path=("notes.txt",)),))


def test_unreadable_zip_is_corrupt(write):
    data = documents.docx([("Heading", ["Body"])])

    assert failure(write, "cut.docx", data[: len(data) // 2]).code == failures.CORRUPT_FILE


def test_library_failures_become_readable_corrupt_file_errors(write):
    data = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<not-word/>"})

    error = failure(write, "odd.docx", data)

    assert error.code == failures.CORRUPT_FILE
    assert error.message == "The Word document could not be read; the file may be damaged or incomplete"


def test_detect_type_uses_the_filename_only_to_tell_text_kinds_apart(write):
    path = write("upload", b"a,b\n1,2\n")

    assert [detect_type(path, hint) for hint in ("x.csv", "x.tsv", "x.md", "x.txt", "")] == [
        "csv", "tsv", "markdown", "text", "text"
    ]


def test_errors_and_documents_survive_pickling():
    error = pickle.loads(pickle.dumps(IngestError(failures.NO_TEXT, "nothing", retryable=True)))
    document = ParsedDocument("text", (Section("a", 1, "h"),), 1)

    assert (error.code, str(error), error.retryable) == (failures.NO_TEXT, "nothing", True)
    assert pickle.loads(pickle.dumps(document)) == document
    assert document.characters == 1


def test_parse_file_runs_in_a_process_pool(write):
    good, bad = write("a.pdf", documents.pdf(["From the pool"])), write("b.pdf", documents.truncated_pdf())

    with ProcessPool(max_workers=1) as pool:
        parsed = pool.schedule(parse_file, args=(good, "a.pdf")).result(timeout=60)
        with pytest.raises(IngestError) as caught:
            pool.schedule(parse_file, args=(bad, "b.pdf")).result(timeout=60)

    assert parsed.sections[0].text == "From the pool"
    assert caught.value.code == failures.CORRUPT_FILE


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_benchmark_documents_are_reproducible_distinct_and_parseable(write):
    generated = list(documents.mixed_set(12, seed=5))

    assert generated == list(documents.mixed_set(12, seed=5))
    assert len({data for _, data in generated}) == 12
    for name, data in generated:
        number = int(Path(name).stem.rsplit("-", 1)[1])
        assert f"Document 5-{number}, page 1" in text_of(parse(write, name, data))
