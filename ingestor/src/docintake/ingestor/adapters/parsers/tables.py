"""Tables as Markdown text: a header row, its separator, a line per row; what the chunker keeps whole."""

from collections.abc import Iterable, Sequence


def markdown_table(rows: Iterable[Sequence[str]], header: Sequence[str] | None = None) -> str:
    """The rows as a Markdown table under `header`, else under the first row; every row as wide as the widest,
    each cell on one line with its pipes escaped. An empty string for no rows."""
    cleaned = [[_cell(value) for value in row] for row in rows]
    if header is not None:
        cleaned.insert(0, [_cell(value) for value in header])
    if not cleaned:
        return ""
    width = max(len(row) for row in cleaned) or 1
    first, *rest = cleaned
    head = [value or f"Column {number}" for number, value in enumerate(_padded(first, width), start=1)]
    lines = [_line(head), _line(["---"] * width)]
    lines.extend(_line(_padded(row, width)) for row in rest)
    return "\n".join(lines)


def _cell(value: str) -> str:
    return " ".join(value.split()).replace("|", "\\|")  # runs of white space one space, none at the ends


def _padded(row: list[str], width: int) -> list[str]:
    return row + [""] * (width - len(row))


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"
