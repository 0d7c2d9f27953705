"""Text collected into sections under heading paths; Markdown text cut at its headings."""

import re

from docintake.ingestor.domain.document import Section


class Sections:
    """Collects text into sections, starting a new one at every heading; each section's heading path is the
    headings above it, a heading of a level ending those of its level and below (level 0: the document's title)."""

    def __init__(self, title: str | None = None) -> None:
        self.sections: list[Section] = []
        self._parts: list[str] = []
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

    def done(self) -> list[Section]:
        self._flush()
        return self.sections

    def _flush(self) -> None:
        if self._parts:
            path = tuple(heading for _, heading in self._path)
            self.sections.append(Section("".join(self._parts), heading_path=path))
            self._parts = []


_ATX_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def markdown_sections(text: str) -> list[Section]:
    """A section per ATX heading (`#` to `######`), none started inside a fenced code block."""
    sections = Sections()
    fence = None
    for line in text.split("\n"):
        if marker := _FENCE.match(line):
            if fence is None:
                fence = marker.group(1)
            elif marker.group(1).startswith(fence):
                fence = None
        elif fence is None and (heading := _ATX_HEADING.match(line)):
            sections.start(heading.group(2), len(heading.group(1)))
        sections.add(line + "\n")
    return sections.done()
