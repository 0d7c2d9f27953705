"""Chunk nodes written by the running ingestor carry their page and heading path, tables under their header."""

import io
from uuid import uuid4

import pptx

from tests.support import documents
from tests.support.ingest import outcome_of


def _deck(titles: list[str]) -> bytes:
    presentation = pptx.Presentation()
    for title in titles:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = f"What {title} means for the project."
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


async def test_chunk_nodes_carry_page_and_heading_path(ingestor, broker, store, graph, settings):
    titles = [f"Roadmap {uuid4()}", "Risks", "Budget"]
    event, outcome = await outcome_of(settings, broker, store, _deck(titles), "deck.pptx")
    assert outcome["event_type"] == "docintake.document.ingested", outcome
    records, _, _ = await graph.execute_query(
        "MATCH (c:Chunk)-[:PART_OF]->(:Document {sha256: $sha}) "
        "RETURN c.index AS index, c.page AS page, c.heading_path AS heading_path ORDER BY c.index",
        sha=event.data.document.sha256,
    )
    assert [(r["page"], r["heading_path"]) for r in records] == [(n, [title]) for n, title in enumerate(titles, 1)]


async def test_a_long_docx_table_is_stored_in_chunks_each_under_its_header_and_heading(
    ingestor, broker, store, graph, settings
):
    header = ["Part", f"Count {uuid4()}"]
    rows = [[f"part {n} of the rack assembly", str(n)] for n in range(150)]
    data = documents.docx([("Inventory", ["What the rack holds."])], table=[header, *rows])
    event, outcome = await outcome_of(settings, broker, store, data, "inventory.docx")
    assert outcome["event_type"] == "docintake.document.ingested", outcome
    records, _, _ = await graph.execute_query(
        "MATCH (c:Chunk)-[:PART_OF]->(:Document {sha256: $sha}) "
        "RETURN c.text AS text, c.heading_path AS heading_path ORDER BY c.index",
        sha=event.data.document.sha256,
    )
    table_chunks = [r["text"] for r in records if "| part " in r["text"]]
    assert len(table_chunks) > 2
    assert all(text.startswith(f"| {header[0]} | {header[1]} |\n| --- | --- |\n") for text in table_chunks)
    assert {tuple(r["heading_path"]) for r in records} == {("Inventory",)}
