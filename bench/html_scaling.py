"""How the HTML parser's time grows with a hostile document's size: seconds per MB at 0.1, 1 and 10 MB.

    .venv/bin/python bench/html_scaling.py

Each document nests inline elements deeply (<b><i><span>word ...), the shape that made parsing
quadratic before; a plain document of the same size is the floor beside it. Linear growth shows
as a flat s/MB column.
"""

import sys
import tempfile
import time
from pathlib import Path

from docintake.ingestor.adapters.parsers.formats import parse_html

SIZES_MB = (0.1, 1, 10)


def nested(size: int) -> bytes:
    unit = "<b><i><span>word "
    return ("<html><body><p>" + unit * (size // len(unit)) + "</p></body></html>").encode()


def plain(size: int) -> bytes:
    unit = "<p>word word word word word</p>\n"
    return ("<html><body>" + unit * (size // len(unit)) + "</body></html>").encode()


def seconds_to_parse(content: bytes, folder: Path) -> float:
    path = folder / "page.html"
    path.write_bytes(content)
    started = time.perf_counter()
    parse_html(path)
    return time.perf_counter() - started


def main() -> int:
    print(f"{'size':>7}  {'nested s':>9}  {'nested s/MB':>11}  {'plain s':>8}  {'plain s/MB':>10}")
    with tempfile.TemporaryDirectory() as scratch:
        for megabytes in SIZES_MB:
            size = int(megabytes * 1_000_000)
            hostile, floor = seconds_to_parse(nested(size), Path(scratch)), seconds_to_parse(plain(size), Path(scratch))
            print(f"{megabytes:>5} MB  {hostile:>9.3f}  {hostile / megabytes:>11.3f}  "
                  f"{floor:>8.3f}  {floor / megabytes:>10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
