"""ZIP archives: every file they hold, archives within them too, read as documents of their own."""

import zipfile
from functools import partial
from pathlib import Path

from docintake.ingestor.adapters.parsers.members import Member, Members
from docintake.ingestor.domain.document import Section


def parse_zip(path: Path, members: Members) -> tuple[list[Section], int | None]:
    with zipfile.ZipFile(path) as archive:
        files = [
            Member(info.filename, partial(archive.open, info))
            for info in archive.infolist()
            if not info.is_dir()
        ]
        sections, unread = members.read(files)
    if not sections:
        raise unread.error("archive")
    return sections, None
