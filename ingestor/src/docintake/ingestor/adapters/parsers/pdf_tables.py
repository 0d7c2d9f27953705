"""Tables a PDF page's layout shows, as Markdown tables: at least three rows of short runs of text (a few words
each, narrow) standing apart in the same columns. Read from PDFium's text rectangles (each a run of text on one
line), so a page without a table costs only their geometry; the text of a page with a table is rebuilt line by
line around it."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import pypdfium2

from docintake.ingestor.adapters.parsers.tables import markdown_table

MIN_ROWS, MIN_COLUMNS = 3, 2
MAX_CELL_SHARE = 0.3  # of the page's width: wider runs are columns of prose, not the cells of a table
MAX_CELL_CHARACTERS = 24  # the median cell's: more, and the "table" is prose set in columns
MAX_RECTANGLES = 5000  # a page with more is a drawing of text (a map, a chart): left as PDFium reads it


@dataclass
class _Run:
    left: float
    bottom: float
    right: float
    top: float
    order: int  # PDFium's, which follows the page's content: a table's rows one after another, prose column-wise
    text: str = ""


@dataclass
class _Line:
    top: float
    bottom: float
    cells: list[_Run] = field(default_factory=list)

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, 1.0)


def with_tables(text_page: pypdfium2.PdfTextPage, text: str, page_width: float) -> str:
    """The page's text with the tables its layout shows as Markdown tables; `text` as it is where it shows none."""
    count = text_page.count_rects()
    if count < MIN_ROWS * MIN_COLUMNS or count > MAX_RECTANGLES:
        return text
    lines = _lines([_run(text_page, index) for index in range(count)])
    tables = _tables(lines, page_width)
    if not tables:
        return text
    for line in lines:
        for cell in line.cells:
            cell.text = text_page.get_text_bounded(cell.left, cell.bottom, cell.right, cell.top)
    tables = [(start, end, columns) for start, end, columns in tables if _short(lines[start:end])]
    if not tables:
        return text
    parts: list[str] = []
    index = 0
    for start, end, columns in tables:
        parts.extend(" ".join(cell.text.strip() for cell in line.cells) for line in lines[index:start])
        parts.append(markdown_table(_rows(lines[start:end], columns)))
        index = end
    parts.extend(" ".join(cell.text.strip() for cell in line.cells) for line in lines[index:])
    return "\n".join(parts)


def _run(text_page: pypdfium2.PdfTextPage, index: int) -> _Run:
    left, bottom, right, top = text_page.get_rect(index)
    return _Run(left, bottom, right, top, order=index)


def _lines(runs: list[_Run]) -> list[_Line]:
    """The runs grouped in lines, top to bottom, and within a line into cells: runs closer than the line's height
    are one cell."""
    lines: list[_Line] = []
    for run in sorted(runs, key=lambda run: -run.top):
        middle = (run.top + run.bottom) / 2
        line = next((line for line in reversed(lines[-3:]) if line.bottom <= middle <= line.top), None)
        if line is None:
            lines.append(line := _Line(run.top, run.bottom))
        line.cells.append(run)
    for line in lines:
        cells: list[_Run] = []
        for run in sorted(line.cells, key=lambda run: run.left):
            if cells and run.left - cells[-1].right < line.height:
                last = cells[-1]
                cells[-1] = _Run(last.left, min(last.bottom, run.bottom), max(last.right, run.right),
                                 max(last.top, run.top), min(last.order, run.order))
            else:
                cells.append(run)
        line.cells = cells
    return lines


Columns = list[tuple[float, float]]  # each column's left and right


def _tables(lines: Sequence[_Line], page_width: float) -> list[tuple[int, int, Columns]]:
    """(first, after last) line of each run of lines whose cells stand in the same columns, and the columns."""
    found: list[tuple[int, int, Columns]] = []
    start = 0
    while start < len(lines):
        end, columns = start, [(cell.left, cell.right) for cell in lines[start].cells]
        if len(columns) >= MIN_COLUMNS:
            end = start + 1
            while end < len(lines) and _continues(lines[end - 1], lines[end], columns):
                end += 1
        if end - start >= MIN_ROWS and _narrow(lines[start:end], page_width) and _row_by_row(lines[start:end]):
            found.append((start, end, columns))
            start = end
        else:
            start += 1
    return found


def _continues(previous: _Line, line: _Line, columns: Columns) -> bool:
    """Whether `line` is the next row of a table with these columns (which it widens): close below the previous
    line, each of its cells in a column of its own, in order."""
    if len(line.cells) < MIN_COLUMNS or previous.bottom - line.top > 2 * line.height:
        return False
    matched = [_column(cell, columns, line.height) for cell in line.cells]
    indices = [index for index in matched if index is not None]
    if len(indices) < len(matched) or indices != sorted(set(indices)):
        return False
    for cell, index in zip(line.cells, indices, strict=True):
        left, right = columns[index]
        columns[index] = (min(left, cell.left), max(right, cell.right))
    return True


def _column(cell: _Run, columns: Columns, tolerance: float) -> int | None:
    for index, (left, right) in enumerate(columns):
        if cell.left < right + tolerance and cell.right > left - tolerance:
            return index
    return None


def _narrow(lines: Sequence[_Line], page_width: float) -> bool:
    widths = sorted(cell.right - cell.left for line in lines for cell in line.cells)
    return widths[len(widths) // 2] <= MAX_CELL_SHARE * page_width


def _row_by_row(lines: Sequence[_Line]) -> bool:
    """Whether the page's content gives most rows' cells one row after another, as a table is written; the lines
    of prose set in columns come a column after another."""
    steps = [
        max(cell.order for cell in line.cells) < min(cell.order for cell in following.cells)
        for line, following in zip(lines, lines[1:], strict=False)
    ]
    return sum(steps) * 3 >= len(steps) * 2


def _short(lines: Sequence[_Line]) -> bool:
    """Whether most cells hold a few words, as a table's do (the lines of prose set in columns hold more)."""
    lengths = sorted(len(cell.text.strip()) for line in lines for cell in line.cells)
    return lengths[len(lengths) // 2] <= MAX_CELL_CHARACTERS


def _rows(lines: Sequence[_Line], columns: Columns) -> list[list[str]]:
    """The lines' cells as rows, each cell in its column."""
    rows = []
    for line in lines:
        row = [""] * len(columns)
        for cell in line.cells:
            index = _column(cell, columns, line.height)
            if index is not None:
                row[index] = (row[index] + " " + cell.text.strip()).strip()
        rows.append(row)
    return rows
