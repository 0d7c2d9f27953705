import pytest

from docintake.contracts.mapping import MappingError, kind_of, parse_mapping
from docintake.gateway.domain.filenames import sanitize_filename


def test_csv_with_bom_quoted_tags_and_blank_lines():
    content = '\ufefffilename,author,tags\r\n\r\nreport.pdf,"Lovelace, Ada","ml, graphs"\r\n\r\nnotes.md,,\r\n'.encode()
    assert parse_mapping(content, "text/csv") == {
        "report.pdf": {"author": "Lovelace, Ada", "tags": "ml, graphs"},
        "notes.md": {},
    }


def test_csv_header_is_case_and_space_insensitive_and_paths_are_reduced_to_names():
    content = b" Filename , Department\nfolder/a.txt,R&D\n"
    assert parse_mapping(content, filename="m.csv") == {"a.txt": {"department": "R&D"}}


def test_csv_quoted_field_with_newline():
    content = b'filename,category\na.txt,"two\nlines"\n'
    assert parse_mapping(content, "text/csv") == {"a.txt": {"category": "two\nlines"}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"author\nAda\n", "'filename' column"),
        (b"filename,author\na.txt,Ada,more\n", "Line 2"),
        (b"filename,author\n\n\nb.txt\n", "Line 4"),
        (b'filename,author\na.txt,"unterminated\n', "malformed"),
        (b"filename,filename\na,b\n", "twice"),
        (b",author\n,Ada\n", "'filename' column"),
        (b"filename,author\n,Ada\n", "no filename"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"   \n", "empty"),
    ],
)
def test_csv_errors_name_the_line_or_column(content, message):
    with pytest.raises(MappingError, match=message):
        parse_mapping(content, "text/csv")


def test_json_object_from_filename_to_metadata():
    content = b'{"a.pdf": {"author": "Ada", "tags": ["x"]}, "dir/b.txt": {}}'
    assert parse_mapping(content, "application/json") == {"a.pdf": {"author": "Ada", "tags": ["x"]}, "b.txt": {}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"a.pdf": {"author": "Ada"}', "line 1, column"),
        (b'["a.pdf"]', "must be an object"),
        (b'{"a.pdf": ["Ada"]}', "key 'a.pdf'"),
        (b'{"": {}}', "not a file name"),
    ],
)
def test_json_errors_name_the_key_or_position(content, message):
    with pytest.raises(MappingError, match=message):
        parse_mapping(content, "application/json")


@pytest.mark.parametrize(
    ("content", "content_type", "filename", "kind"),
    [
        (b"filename\n", "application/json", "m.csv", "json"),  # content type first
        (b'{"a": {}}', "text/csv", "", "csv"),
        (b"{}", "application/octet-stream", "m.csv", "csv"),  # then extension
        (b"{}", "", "m.json", "json"),
        (b'\xef\xbb\xbf  {"a": {}}', "", "mapping", "json"),  # then content
        (b"filename,author\n", "", "mapping", "csv"),
    ],
)
def test_kind_is_told_by_content_type_then_extension_then_content(content, content_type, filename, kind):
    assert kind_of(content, content_type, filename) == kind


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\notes.txt", "notes.txt"),
        ("bell\x07\x00.txt", "bell.txt"),
        ("", "unnamed"),
        ("..", "unnamed"),
        (None, "unnamed"),
    ],
)
def test_filenames_are_sanitised(raw, safe):
    assert sanitize_filename(raw) == safe


def test_long_filenames_are_bounded_and_keep_their_extension():
    name = sanitize_filename("x" * 400 + ".docx")
    assert len(name) <= 255 and name.endswith(".docx")
