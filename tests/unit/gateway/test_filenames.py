"""Uploaded filenames made safe to show and store, never used as a path."""

import pytest

from docintake.gateway.domain.filenames import MAX_FILENAME_LENGTH, sanitize_filename


@pytest.mark.parametrize(("raw", "safe"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\ada\\report.pdf", "report.pdf"),
    ("bell\x07and\x00nul.txt", "bellandnul.txt"),
    ("right\u202eto-left.txt", "rightto-left.txt"),
    ("فایل\u200cها.pdf", "فایل\u200cها.pdf"),
    ("Cafe\u0301.txt", "Café.txt"),
    ("", "unnamed"),
    (None, "unnamed"),
    (" ... ", "unnamed"),
])
def test_names_are_cleaned_and_words_kept(raw, safe):
    assert sanitize_filename(raw) == safe


def test_a_long_name_is_cut_keeping_its_extension():
    name = sanitize_filename("x" * 1000 + ".docx")
    assert len(name) <= MAX_FILENAME_LENGTH and name.endswith("x.docx")
