"""Legacy Office and Outlook files, which no library these tests could use writes, read from the shared corpus of
real files (../shared/corpus, or $DOCINTAKE_CORPUS_DIR); skipped where it is absent."""

import os
from pathlib import Path

import pytest

from docintake.ingestor.adapters.parsers.formats import parse_file

CORPUS = Path(os.environ.get("DOCINTAKE_CORPUS_DIR", Path(__file__).resolve().parents[3].parent / "shared" / "corpus"))

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus of real files at {CORPUS}")


@pytest.mark.parametrize(
    ("name", "kind", "words"),
    [
        ("fake.doc", "doc", "Lorem ipsum dolor sit amet."),
        ("duplicate-paragraphs.doc", "doc", "This document contains duplicates"),
        ("tests-example.xls", "xls", "Bagpipes are awesome."),
        ("fake-power-point.ppt", "ppt", "Adding a Bullet Slide"),
        ("fake-email.msg", "msg", "This is a test email to use for unit tests."),
        ("language-docs/eng_spa_mult.odt", "odt", "All human beings are born free"),
        ("winter-sports.epub", "epub", "Winter Sports in Switzerland"),
        ("fake-doc.rtf", "rtf", "My First Heading"),
    ],
)
def test_real_files_of_formats_no_test_can_write_are_read(name, kind, words):
    document = parse_file(CORPUS / name, name)

    assert document.detected_type == kind
    assert words in "\n".join(section.text for section in document.sections)


def test_outlook_message_attachments_are_read_under_their_names():
    document = parse_file(CORPUS / "fake-email-attachment.msg", "fake-email-attachment.msg")

    assert document.sections[0].heading == "Fake email with attachment"
    assert "Here's the attachments!" in document.sections[0].text
    assert [(" > ".join(section.heading_path), section.text) for section in document.sections[1:]] == [
        ("fake-attachment.txt", "Hey this is a fake attachment!")
    ]


def test_legacy_excel_sheets_count_as_pages():
    assert parse_file(CORPUS / "tests-example.xls", "tests-example.xls").pages == 3
