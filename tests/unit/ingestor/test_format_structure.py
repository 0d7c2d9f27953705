"""Structure of the formats whose libraries give it beside their text, on documents these tests write: a PDF's
outline as heading paths, and the page (slide, sheet) and heading path every chunk carries."""

from pathlib import Path

from docintake.ingestor.adapters.parsers.formats import parse_file
from docintake.ingestor.domain.chunking import chunk_sections
from docintake.ingestor.domain.document import ParsedDocument
from tests.support import documents
from tests.unit.ingestor.test_long_tail import _epub, _opendocument


def parse(tmp_path: Path, name: str, data: bytes) -> ParsedDocument:
    path = tmp_path / name
    path.write_bytes(data)
    return parse_file(path, filename_hint=name)


def test_a_pdf_outline_gives_heading_paths_cut_where_each_bookmarked_title_stands(tmp_path):
    pdf = documents.outlined_pdf([
        [(None, "Preface text before any chapter."), (0, "Chapter 2"), (None, "Why install at all.")],
        [(None, "More of the why."), (1, "Installation"), (None, "Download it first."),
         (2, "Linux"), (None, "Use the package manager.")],
        [(None, "Then restart the service."), (1, "Upgrades"), (None, "Keep the old config.")],
    ])

    document = parse(tmp_path, "manual.pdf", pdf)

    assert [(section.page, section.heading_path, section.text.split()[0]) for section in document.sections] == [
        (1, (), "Preface"),
        (1, ("Chapter 2",), "Chapter"),
        (2, ("Chapter 2",), "More"),
        (2, ("Chapter 2", "Installation"), "Installation"),
        (2, ("Chapter 2", "Installation", "Linux"), "Linux"),
        (3, ("Chapter 2", "Installation", "Linux"), "Then"),
        (3, ("Chapter 2", "Upgrades"), "Upgrades"),
    ]
    chunks = chunk_sections(document.sections, size=200, overlap=20)
    linux = [chunk for chunk in chunks if "package manager" in chunk.text]
    assert [(chunk.page, chunk.heading_path) for chunk in linux] == [(2, ("Chapter 2", "Installation", "Linux"))]


def test_a_bookmark_whose_title_is_not_on_its_page_heads_the_page_from_its_top(tmp_path):
    pdf = documents.outlined_pdf([[(None, "Opening words.")], [(None, "Body of the second page.")]])
    marked = documents.with_bookmark(pdf, "Appendix", page_index=1)

    document = parse(tmp_path, "report.pdf", marked)

    assert [(section.page, section.heading_path) for section in document.sections] == [(1, ()), (2, ("Appendix",))]


def test_a_pdf_without_an_outline_has_a_section_per_page_and_no_heading_path(tmp_path):
    document = parse(tmp_path, "plain.pdf", documents.pdf(["First page.", "Second page."]))

    assert [(section.page, section.heading_path) for section in document.sections] == [(1, ()), (2, ())]


def _odt_table(rows: list[list[str]]) -> str:
    def row(cells: list[str]) -> str:
        return "<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{cell}</text:p></table:table-cell>'
            for cell in cells
        ) + "</table:table-row>"

    columns = f'<table:table-column table:number-columns-repeated="{len(rows[0])}"/>'
    return f'<table:table table:name="T1">{columns}{"".join(row(cells) for cells in rows)}</table:table>'


def test_odt_headings_give_heading_paths_and_its_tables_are_markdown_tables(tmp_path):
    body = (
        '<office:text><text:h text:outline-level="1">Warehouse audit</text:h><text:p>Counted in March.</text:p>'
        '<text:h text:outline-level="2">Stock levels</text:h>'
        + _odt_table([["Item", "Count"], ["Bolts", "420"], ["Nuts", "380"]])
        + '<text:h text:outline-level="1">Findings</text:h><text:p>The ledger <text:span>balanced</text:span>.'
        "</text:p></office:text>"
    )

    document = parse(tmp_path, "audit.odt", _opendocument("text", body))

    assert [section.heading_path for section in document.sections] == [
        ("Warehouse audit",), ("Warehouse audit", "Stock levels"), ("Findings",)
    ]
    assert "| Item | Count |\n| --- | --- |\n| Bolts | 420 |\n| Nuts | 380 |" in document.sections[1].text
    assert "The ledger balanced." in document.sections[2].text


def test_rtf_headings_and_tables_are_kept(tmp_path):
    def cells(*values: str) -> bytes:
        return rb"\trowd\cellx2000\cellx4000" + b"".join(rb"\intbl " + v.encode() + rb"\cell" for v in values) \
            + rb"\row"

    data = (
        rb"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}{\stylesheet{\s1 heading 1;}}"
        rb"{\pard\s1\outlinelevel0\b Payroll review\b0\par}{\pard Figures follow.\par}"
        + cells("Month", "Total") + cells("March", "9100") + rb"\pard Signed off.\par}"
    )

    document = parse(tmp_path, "review.rtf", data)

    assert [section.heading_path for section in document.sections] == [("Payroll review",)]
    assert "| Month | Total |\n| --- | --- |\n| March | 9100 |" in document.sections[0].text


def test_epub_chapter_headings_give_heading_paths_without_markdown_marks(tmp_path):
    data = _epub("Alpine glaciers", "Snowfall <em>feeds</em> the glacier &amp; <a href='#x'>the valley</a>.")

    document = parse(tmp_path, "guide.epub", data)

    [section] = [section for section in document.sections if "Snowfall" in section.text]
    assert section.heading_path[-1] == "Alpine glaciers"
    assert "Snowfall feeds the glacier & the valley." in section.text


def test_every_sheet_is_a_page_of_its_own_with_its_name_for_heading(tmp_path):
    workbook = documents.xlsx({"Budget": [["Supplier", "Total"], ["Acme", 12]], "Staff": [["Name"], ["Ada"]]})
    spreadsheet = _opendocument("spreadsheet", "<office:spreadsheet>" + _odt_table([["Supplier", "Total"]])
                                .replace('table:name="T1"', 'table:name="Budget"') + _odt_table([["Name"], ["Ada"]])
                                .replace('table:name="T1"', 'table:name="Staff"') + "</office:spreadsheet>")

    for name, data in (("budget.xlsx", workbook), ("budget.ods", spreadsheet)):
        chunks = chunk_sections(parse(tmp_path, name, data).sections)
        assert [(chunk.page, chunk.heading_path) for chunk in chunks] == [(1, ("Budget",)), (2, ("Staff",))], name


def test_a_table_the_layout_of_a_pdf_page_shows_is_a_markdown_table_between_its_prose(tmp_path):
    pdf = documents.laid_out_pdf([
        (50, ["Stock counted on the first of March by the warehouse team.", "Item", "Bolts M6", "Nuts M6",
              "Washers", "", "Counts were checked twice."]),
        (200, ["", "Count", "420", "", "1200"]),
        (300, ["", "Location", "Aisle 3", "Aisle 3", "Aisle 4"]),
    ])

    [section] = parse(tmp_path, "stock.pdf", pdf).sections

    assert section.text == (
        "Stock counted on the first of March by the warehouse team.\n"
        "| Item | Count | Location |\n| --- | --- | --- |\n| Bolts M6 | 420 | Aisle 3 |\n| Nuts M6 |  | Aisle 3 |\n"
        "| Washers | 1200 | Aisle 4 |\nCounts were checked twice."
    )


def test_prose_set_in_columns_stays_prose_in_reading_order(tmp_path):
    left = ["The committee met on", "Tuesday to review the", "winter maintenance", "schedule for the port."]
    right = ["Repairs to the north", "breakwater begin in", "March once the storms", "have passed us by."]
    pdf = documents.laid_out_pdf([(50, left), (300, right)], by_columns=True)

    [section] = parse(tmp_path, "minutes.pdf", pdf).sections

    assert "|" not in section.text
    assert section.text.split() == " ".join(left + right).split()
