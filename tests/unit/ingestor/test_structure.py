"""Structure kept through parsing and chunking: heading paths on every chunk."""

import io
import zipfile
from pathlib import Path

import docx
import pptx

from docintake.ingestor.adapters.parsers.formats import parse_file
from docintake.ingestor.domain.chunking import chunk_sections
from docintake.ingestor.domain.document import ParsedDocument


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
