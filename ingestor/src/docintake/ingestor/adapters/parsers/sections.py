"""Text collected into sections under heading paths; Markdown text cut at its headings."""

import re
from collections.abc import Iterable, Iterator

from docintake.ingestor.domain.document import Section


class Sections:
    """Collects text into sections, starting a new one at every heading; each section's heading path is the
    headings above it, a heading of a level ending those of its level and below (level 0: the document's title).
    `max_characters`: a section grown past it is ended where its text was added, the next one under the same path."""

    def __init__(self, title: str | None = None, max_characters: int | None = None) -> None:
        self.sections: list[Section] = []
        self._parts: list[str] = []
        self._characters = 0
        self._max_characters = max_characters
        self._path: list[tuple[int, str]] = [(0, title)] if title else []

    def start(self, heading: str, level: int = 1) -> None:
        heading = heading.strip()
        if heading:  # an empty heading paragraph does not end the section it stands in
            self._flush()
            while self._path and self._path[-1][0] >= level:
                self._path.pop()
            if not (self._path and self._path[-1] == (0, heading)):  # an h1 repeating the title is the title
                self._path.append((level, heading))

    def add(self, text: str) -> None:
        self._parts.append(text)
        self._characters += len(text)
        if self._max_characters is not None and self._characters >= self._max_characters:
            self._flush()

    def done(self) -> list[Section]:
        self._flush()
        return self.sections

    def finished(self) -> list[Section]:
        """The sections ended so far, handed over and forgotten."""
        taken, self.sections = self.sections, []
        return taken

    def _flush(self) -> None:
        if self._parts:
            path = tuple(heading for _, heading in self._path)
            self.sections.append(Section("".join(self._parts), heading_path=path))
            self._parts, self._characters = [], 0


_ATX_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def markdown_sections(text: str) -> list[Section]:
    """A section per ATX heading (`#` to `######`), none started inside a fenced code block."""
    return list(markdown_section_stream(text.split("\n")))


def markdown_section_stream(lines: Iterable[str], max_characters: int | None = None) -> Iterator[Section]:
    """The sections of markdown_sections from its lines (without their newlines), each handed on once ended; a
    section longer than `max_characters` in several, cut between lines."""
    sections = Sections(max_characters=max_characters)
    fence = None
    for line in lines:
        if marker := _FENCE.match(line):
            if fence is None:
                fence = marker.group(1)
            elif marker.group(1).startswith(fence):
                fence = None
        elif fence is None and (heading := _ATX_HEADING.match(line)):
            sections.start(heading.group(2), len(heading.group(1)))
        sections.add(line + "\n")
        if sections.sections:
            yield from sections.finished()
    yield from sections.done()
