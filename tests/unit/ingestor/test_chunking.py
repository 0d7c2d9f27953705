"""Chunking: bounded sizes, natural boundaries, overlap, and nothing lost."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docintake.ingestor.domain.chunking import chunk_sections, spans
from docintake.ingestor.domain.document import Chunk, Section

SENTENCE = "The quick brown fox jumps over the lazy dog."


@pytest.mark.parametrize(("size", "overlap"), [(100, 100), (100, 150), (0, 0), (100, -1)])
def test_size_must_exceed_overlap_which_cannot_be_negative(size, overlap):
    with pytest.raises(ValueError):
        chunk_sections([Section("text")], size=size, overlap=overlap)


def test_a_short_section_is_one_chunk_keeping_page_and_heading():
    assert chunk_sections([Section("  Short text.\n", page=4, heading_path=("Intro",))]) == [
        Chunk(index=0, text="Short text.", page=4, heading_path=("Intro",))
    ]


def test_chunks_never_exceed_the_size_and_are_never_blank():
    text = " ".join([SENTENCE] * 200)

    chunks = chunk_sections([Section(text)], size=300, overlap=50)

    assert len(chunks) > 10
    assert all(0 < len(chunk.text) <= 300 and chunk.text == chunk.text.strip() for chunk in chunks)


def test_chunks_end_at_paragraphs_before_sentences_before_words():
    paragraph = " ".join([SENTENCE] * 3)
    paragraphs = "\n\n".join([paragraph] * 10)
    sentences = " ".join([SENTENCE] * 30)
    words = " ".join(["word"] * 300)

    by_paragraph = chunk_sections([Section(paragraphs)], size=300, overlap=0)
    by_sentence = chunk_sections([Section(sentences)], size=200, overlap=0)
    by_word = chunk_sections([Section(words)], size=100, overlap=0)

    assert {part for chunk in by_paragraph for part in chunk.text.split("\n\n")} == {paragraph}
    assert len(by_paragraph) == 5
    assert all(chunk.text.startswith("The") and chunk.text.endswith("dog.") for chunk in by_sentence)
    assert {word for chunk in by_word for word in chunk.text.split(" ")} == {"word"}


def test_a_word_longer_than_the_size_is_cut_hard():
    chunks = chunk_sections([Section("x" * 250)], size=100, overlap=0)

    assert [len(chunk.text) for chunk in chunks] == [100, 100, 50]


def test_consecutive_chunks_overlap_starting_on_a_word():
    text = " ".join(f"w{number}" for number in range(400))

    found = spans(text, 200, 40)
    chunks = chunk_sections([Section(text)], size=200, overlap=40)

    assert len(chunks) == len(found) > 5
    for (_start, end), (next_start, _), before, after in zip(found, found[1:], chunks, chunks[1:], strict=False):
        shared = text[next_start:end]
        assert 0 < len(shared) <= 40
        assert text[next_start - 1] == " "
        assert before.text.endswith(shared) and after.text.startswith(shared)


def test_no_overlap_means_chunks_simply_follow_each_other():
    text = " ".join(f"w{number}" for number in range(400))

    chunks = chunk_sections([Section(text)], size=200, overlap=0)

    assert " ".join(chunk.text for chunk in chunks) == text


def test_chunks_do_not_span_sections_and_are_numbered_across_the_document():
    sections = [
        Section(" ".join([SENTENCE] * 10), page=1, heading_path=("One",)),
        Section("   "),
        Section(" ".join([SENTENCE] * 10), page=2, heading_path=("Two",)),
    ]

    chunks = chunk_sections(sections, size=200, overlap=20)

    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    assert {(chunk.page, chunk.heading) for chunk in chunks} == {(1, "One"), (2, "Two")}
    pages = [chunk.page for chunk in chunks]
    assert pages == sorted(pages)
    assert all(chunk.text in sections[chunk.page * 2 - 2].text for chunk in chunks)


pieces = ["a", "bb", "ccc.", "d" * 12, "x" * 30, "é!", "?", " ", " " * 4, " " * 30, "\n", "\n\n", "\t \t"]
texts = st.one_of(st.text(max_size=200), st.lists(st.sampled_from(pieces), max_size=80).map("".join))


@settings(max_examples=500, deadline=None)
@given(text=texts, size=st.integers(1, 80), data=st.data())
def test_chunks_together_cover_the_whole_text(text, size, data):
    overlap = data.draw(st.integers(0, size - 1))

    found = spans(text, size, overlap)
    chunks = chunk_sections([Section(text)], size, overlap)

    assert [chunk.text for chunk in chunks] == [text[start:end] for start, end in found]
    if not text.strip():
        assert found == []
        return
    assert found[0][0] == len(text) - len(text.lstrip())
    assert found[-1][1] == len(text.rstrip())
    for start, end in found:
        assert 0 < end - start <= size
        assert text[start:end] == text[start:end].strip()
    for (start, end), (next_start, next_end) in zip(found, found[1:], strict=False):
        assert start < next_start and end < next_end
        assert end - next_start <= overlap
        assert text[end:next_start].strip() == ""  # between chunks, only blank space is left out
