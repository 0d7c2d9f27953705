"""Parse a metadata mapping (CSV or JSON) from filename to metadata.

Values are kept as given: validating them against the metadata schema is the ingestor's job,
so one bad row fails one document, not the whole batch.
"""

import csv
import io
import json
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

Mapping = dict[str, dict[str, Any]]
# Metadata values are plain values, lists of them (tags), or small objects: nothing a reader
# (pydantic, Neo4j) might fail to load back.
MAX_VALUE_DEPTH = 3


class MappingError(ValueError):
    """The mapping cannot be parsed; the message names the line or key at fault."""


def mapping_key(filename: str) -> str:
    """The name a mapping row is matched by: the base name, without any folder part."""
    return PurePosixPath(PureWindowsPath(filename).name).name.strip()


def kind_of(content: bytes, content_type: str = "", filename: str = "") -> str:
    """'json' or 'csv': told apart by content type, then extension, then content."""
    content_type = content_type.split(";")[0].strip().lower()
    if content_type in ("application/json", "text/json"):
        return "json"
    if content_type in ("text/csv", "application/csv"):
        return "csv"
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix in (".json", ".csv"):
        return suffix[1:]
    return "json" if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[") else "csv"


def parse_mapping(content: bytes, content_type: str = "", filename: str = "") -> Mapping:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MappingError(f"The metadata mapping is not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise MappingError("The metadata mapping is empty")
    if kind_of(content, content_type, filename) == "json":
        return _parse_json(text)
    return _parse_csv(text)


def _value_depth(value: Any) -> int:
    """How deep lists and objects nest inside a metadata value (a plain value: 0), found without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((item, depth) for item in (current.values() if isinstance(current, dict) else current))
    return deepest


def _parse_json(text: str) -> Mapping:
    try:
        document = json.loads(text)
    except RecursionError:
        raise MappingError(f"The JSON metadata mapping nests deeper than metadata may "
                           f"(values nest at most {MAX_VALUE_DEPTH} levels)") from None
    except json.JSONDecodeError as exc:
        raise MappingError(
            f"The JSON metadata mapping is invalid at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(document, dict):
        raise MappingError("The JSON metadata mapping must be an object from filename to metadata")
    mapping: Mapping = {}
    for filename, metadata in document.items():
        if not isinstance(metadata, dict):
            raise MappingError(f"The metadata for key '{filename}' must be an object, not {type(metadata).__name__}")
        if not mapping_key(filename):
            raise MappingError(f"The key '{filename}' is not a file name")
        for field, value in metadata.items():
            if _value_depth(value) > MAX_VALUE_DEPTH:
                raise MappingError(f"The metadata field '{field}' of '{filename}' nests deeper than "
                                   f"{MAX_VALUE_DEPTH} levels of lists and objects")
        mapping[mapping_key(filename)] = metadata
    return mapping


def _parse_csv(text: str) -> Mapping:
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next((row for row in rows if any(cell.strip() for cell in row)), None)
        if header is None:
            raise MappingError("The CSV metadata mapping has no header row")
        columns = [column.strip().lower() for column in header]
        if "filename" not in columns:
            raise MappingError("The CSV metadata mapping needs a 'filename' column in its header (line 1)")
        if len(set(columns)) != len(columns):
            raise MappingError("The CSV metadata mapping's header names a column twice (line 1)")
        mapping: Mapping = {}
        for row in rows:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                raise MappingError(
                    f"Line {rows.line_num} of the CSV metadata mapping has {len(row)} fields; "
                    f"the header has {len(columns)}"
                )
            record = dict(zip(columns, (cell.strip() for cell in row), strict=True))
            filename = mapping_key(record.pop("filename"))
            if not filename:
                raise MappingError(f"Line {rows.line_num} of the CSV metadata mapping has no filename")
            mapping[filename] = {key: value for key, value in record.items() if value != ""}
        return mapping
    except csv.Error as exc:
        raise MappingError(f"Line {rows.line_num} of the CSV metadata mapping is malformed: {exc}") from exc
