"""Structure kept through parsing and chunking: heading paths on every chunk, tables as Markdown tables cut
between rows under their header."""

import io
import time
import zipfile
from pathlib import Path

import docx
import openpyxl
import pptx

from docintake.ingestor.adapters.parsers.formats import parse_file
from docintake.ingestor.domain.chunking import chunk_sections
from docintake.ingestor.domain.document import ParsedDocument, Section
from tests.unit.ingestor.test_long_tail import _opendocument


def parse(tmp_path: Path, name: str, data: bytes) -> ParsedDocument:
    path = tmp_path / name
    path.write_bytes(data)
    return parse_file(path, filename_hint=name)


def paths(document: ParsedDocument) -> list[tuple[str, ...]]:
    return [section.heading_path for section in document.sections]


def test_markdown_heading_paths_follow_levels(tmp_path):
    data = b"# Handbook\nIntro.\n## Setup\nSteps.\n### Network\nCables.\n## Usage\nRun it.\n# Appendix\nMore.\n"
    document = parse(tmp_path, "handbook.md", data)
    assert paths(document) == [
        ("Handbook",),
        ("Handbook", "Setup"),
        ("Handbook", "Setup", "Network"),
        ("Handbook", "Usage"),
        ("Appendix",),
    ]


def test_html_heading_paths_start_at_the_title_and_follow_h1_to_h6(tmp_path):
    markup = (
        "<html><head><title>Handbook</title></head><body><h1>Handbook</h1><p>Intro.</p>"
        "<h2>Setup</h2><p>Steps.</p><h4>Network</h4><p>Cables.</p><h2>Usage</h2><p>Run it.</p></body></html>"
    )
    document = parse(tmp_path, "handbook.html", markup.encode())
    assert paths(document) == [
        ("Handbook",),
        ("Handbook", "Setup"),
        ("Handbook", "Setup", "Network"),
        ("Handbook", "Usage"),
    ]


def _docx() -> bytes:
    document = docx.Document()
    document.add_heading("Handbook", level=0)
    document.add_heading("Setup", level=1)
    document.add_paragraph("Steps.")
    document.add_heading("Network", level=2)
    document.add_paragraph("Cables.")
    document.add_heading("Usage", level=1)
    document.add_paragraph("Run it.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_heading_styles_give_the_path_under_the_title(tmp_path):
    document = parse(tmp_path, "handbook.docx", _docx())
    assert paths(document) == [
        ("Handbook",),
        ("Handbook", "Setup"),
        ("Handbook", "Setup", "Network"),
        ("Handbook", "Usage"),
    ]


def test_pptx_slide_titles_head_their_slides_with_their_page(tmp_path):
    presentation = pptx.Presentation()
    for title in ("Roadmap", "Risks"):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = f"About {title.lower()}."
    buffer = io.BytesIO()
    presentation.save(buffer)
    document = parse(tmp_path, "deck.pptx", buffer.getvalue())
    chunks = chunk_sections(document.sections)
    assert [(chunk.page, chunk.heading_path) for chunk in chunks] == [(1, ("Roadmap",)), (2, ("Risks",))]


def test_archive_member_paths_start_the_heading_path_of_their_sections(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("docs/guide.md", "# Setup\n## Network\nCables.\n")
    document = parse(tmp_path, "docs.zip", buffer.getvalue())
    assert paths(document) == [("docs/guide.md", "Setup"), ("docs/guide.md", "Setup", "Network")]


def test_mail_subject_heads_the_mail(tmp_path):
    data = b"Subject: Budget approved\nFrom: a@example.com\n\nThe budget is approved.\n"
    document = parse(tmp_path, "mail.eml", data)
    assert paths(document) == [("Budget approved",)]


HEADER = "| Item | Count | Note |\n| --- | --- | --- |"


def _table(rows: int) -> str:
    return HEADER + "".join(f"\n| item {n} | {n * 7} | bolted to frame {n} of the rack |" for n in range(rows))


def test_a_long_table_is_cut_between_rows_each_chunk_under_the_header():
    table = _table(200)
    section = Section(f"Stock as counted.\n\n{table}\n\nCounted by Ada.", heading_path=("Stock", "May"))

    chunks = chunk_sections([section], size=500, overlap=50)

    table_chunks = [chunk for chunk in chunks if chunk.text.startswith("| Item")]
    assert len(table_chunks) > 5
    rows = set(table.split("\n")[2:])
    for chunk in table_chunks:
        assert chunk.text.startswith(HEADER + "\n") and len(chunk.text) <= 500
        assert set(chunk.text.split("\n")[2:]) <= rows  # whole rows only
    assert [row for chunk in table_chunks for row in chunk.text.split("\n")[2:]] == table.split("\n")[2:]
    assert chunks[0].text == "Stock as counted." and chunks[-1].text == "Counted by Ada."
    assert {chunk.heading_path for chunk in chunks} == {("Stock", "May")}


def test_a_row_longer_than_a_chunk_is_kept_whole_under_the_header():
    long_row = "| wide | " + "x" * 600 + " |"
    table = f"{HEADER}\n| a | 1 | b |\n{long_row}\n| c | 2 | d |"
    chunks = chunk_sections([Section(table)], size=200, overlap=20)
    assert [chunk.text for chunk in chunks] == [
        f"{HEADER}\n| a | 1 | b |",
        f"{HEADER}\n{long_row}",
        f"{HEADER}\n| c | 2 | d |",
    ]


def test_a_long_section_split_repeats_its_heading_path_on_every_chunk():
    section = Section("Cables run under the floor. " * 200, page=3, heading_path=("Handbook", "Setup", "Network"))
    chunks = chunk_sections([section], size=300, overlap=30)
    assert len(chunks) > 10
    assert {(chunk.page, chunk.heading_path) for chunk in chunks} == {(3, ("Handbook", "Setup", "Network"))}


def test_docx_headings_and_table_give_chunks_with_paths_and_a_markdown_table(tmp_path):
    document = docx.Document()
    document.add_heading("Handbook", level=0)
    document.add_heading("Setup", level=1)
    document.add_heading("Hardware", level=2)
    document.add_paragraph("The rack holds these parts.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Part", "Count"
    for part, count in (("bolt", "3"), ("nut | washer", "12")):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = part, count
    document.add_heading("Usage", level=1)
    document.add_paragraph("Switch it on.")
    buffer = io.BytesIO()
    document.save(buffer)

    chunks = chunk_sections(parse(tmp_path, "handbook.docx", buffer.getvalue()).sections)

    by_path = {chunk.heading_path: chunk.text for chunk in chunks}
    assert set(by_path) == {
        ("Handbook",),
        ("Handbook", "Setup"),
        ("Handbook", "Setup", "Hardware"),
        ("Handbook", "Usage"),
    }
    assert "| Part | Count |\n| --- | --- |\n| bolt | 3 |\n| nut \\| washer | 12 |" in by_path[
        ("Handbook", "Setup", "Hardware")
    ]


def test_html_and_markdown_tables_are_markdown_tables_in_the_text(tmp_path):
    markup = (
        "<html><body><h1>Prices</h1><table><tr><th>Plan</th><th>Price</th></tr>"
        "<tr><td>Basic</td><td>5 €</td></tr><tr><td>Pro</td><td>20 €</td></tr></table><p>Monthly.</p></body></html>"
    )
    [section] = parse(tmp_path, "prices.html", markup.encode()).sections
    assert "| Plan | Price |\n| --- | --- |\n| Basic | 5 € |\n| Pro | 20 € |\n\nMonthly." in section.text

    markdown = "# Prices\n\n" + _table(100) + "\n"
    chunks = chunk_sections(parse(tmp_path, "prices.md", markdown.encode()).sections, size=400, overlap=40)
    table_chunks = [chunk for chunk in chunks if "| item" in chunk.text]
    assert len(table_chunks) > 3 and all(HEADER in chunk.text for chunk in table_chunks)
    assert {chunk.heading_path for chunk in chunks} == {("Prices",)}


def test_xlsx_and_csv_sheets_split_across_chunks_keep_their_header(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Stock"
    sheet.append(["Item", "Count"])
    for n in range(300):
        sheet.append([f"item {n}", n])
    buffer = io.BytesIO()
    workbook.save(buffer)
    chunks = chunk_sections(parse(tmp_path, "stock.xlsx", buffer.getvalue()).sections)
    assert len(chunks) > 3
    assert all(chunk.text.startswith("| Item | Count |\n| --- | --- |\n") for chunk in chunks)
    assert {chunk.heading_path for chunk in chunks} == {("Stock",)}

    rows = "".join(f"bolt {n},{n},rack {n % 7}\n" for n in range(300))
    chunks = chunk_sections(parse(tmp_path, "stock.csv", ("item,count,place\n" + rows).encode()).sections)
    assert len(chunks) > 3
    assert all(chunk.text.startswith("| item | count | place |\n| --- | --- | --- |\n") for chunk in chunks)


def test_a_100000_row_csv_is_parsed_and_chunked_in_linear_time(tmp_path):
    def seconds(rows: int) -> float:
        data = "item,count,place\n" + "".join(f"bolt {n},{n},rack {n % 7}\n" for n in range(rows))
        started = time.perf_counter()
        chunks = chunk_sections(parse(tmp_path, f"rows-{rows}.csv", data.encode()).sections)
        elapsed = time.perf_counter() - started
        assert all(chunk.text.startswith("| item | count | place |\n") for chunk in chunks)
        return elapsed

    small, large = seconds(25_000), seconds(100_000)
    assert large < 10, f"100,000 rows took {large:.1f} s"
    assert large < 4 * small * 2.5, f"25,000 rows {small:.2f} s, 100,000 rows {large:.2f} s: not linear"


def test_ods_sheets_are_markdown_tables_headed_by_their_sheet_name(tmp_path):
    def row(*values: str) -> str:
        cells = "".join(
            f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
            for value in values
        )
        return f"<table:table-row>{cells}</table:table-row>"

    body = (
        f'<office:spreadsheet><table:table table:name="Budget">{row("Supplier", "Invoice")}{row("Acme", "INV-7")}'
        "</table:table></office:spreadsheet>"
    )
    document = parse(tmp_path, "budget.ods", _opendocument("spreadsheet", body))
    [section] = document.sections
    assert section.heading_path == ("Budget",)
    assert "| Supplier | Invoice |\n| --- | --- |\n| Acme | INV-7 |" in section.text


def test_a_row_past_the_row_limit_is_cut_at_words_each_piece_under_the_header():
    huge_row = "| huge | " + "word " * 400 + "|"  # 2,000 characters, over 4 chunks of 300
    chunks = chunk_sections([Section(f"{HEADER}\n{huge_row}\n| c | 2 | d |")], size=300, overlap=30)
    assert len(chunks) > 5 and all(chunk.text.startswith(HEADER + "\n") for chunk in chunks)
    assert all(len(chunk.text) <= 300 for chunk in chunks)
    assert chunks[-1].text == f"{HEADER}\n| c | 2 | d |"
    assert sum(chunk.text.count("word") for chunk in chunks) == 400


def test_a_table_whose_header_fills_half_a_chunk_is_cut_like_prose_without_repeating_it():
    wide = "| " + " | ".join(f"column {n}" for n in range(30)) + " |\n|" + " --- |" * 30
    rows = "".join("\n| " + " | ".join(str(n) for n in range(30)) + " |" for _ in range(20))
    chunks = chunk_sections([Section(wide + rows)], size=300, overlap=30)
    assert len(chunks) > 5 and all(len(chunk.text) <= 300 for chunk in chunks)
    assert sum(chunk.text.startswith("| column 0 ") for chunk in chunks) == 1
