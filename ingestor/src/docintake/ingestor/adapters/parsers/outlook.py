"""Outlook messages (.msg): the mail's own text through kreuzberg, then the text of each file attached to it."""

from functools import partial
from pathlib import Path

import olefile

from docintake.ingestor.adapters.parsers import kreuzberg_formats
from docintake.ingestor.adapters.parsers.members import Member, Members
from docintake.ingestor.domain.document import Section

# MAPI property streams of an attachment's storage: its bytes, then its names, best first
_ATTACHMENT = "__attach_version1.0_#"
_DATA = "__substg1.0_37010102"
_NAMES = ("__substg1.0_3707001F", "__substg1.0_3704001F", "__substg1.0_3001001F")
_ANSI_NAMES = tuple(name[:-4] + "001E" for name in _NAMES)


def parse_msg(path: Path, members: Members) -> tuple[list[Section], int | None]:
    body, _ = kreuzberg_formats.extract(path, "msg")
    with olefile.OleFileIO(str(path)) as message:
        sections, _ = members.read(_attachments(message))
    return [*body, *sections], None


def _attachments(message: olefile.OleFileIO) -> list[Member]:
    """Attached files, in their order; an attached message or OLE object, which has no data stream, is left out."""
    storages = sorted({entry[0] for entry in message.listdir() if entry[0].startswith(_ATTACHMENT)})
    return [
        Member(_name(message, storage, number), partial(message.openstream, [storage, _DATA]))
        for number, storage in enumerate(storages, start=1)
        if message.exists(f"{storage}/{_DATA}")
    ]


def _name(message: olefile.OleFileIO, storage: str, number: int) -> str:
    for stream in _NAMES + _ANSI_NAMES:
        if message.exists(f"{storage}/{stream}"):
            raw = message.openstream([storage, stream]).read()
            name = raw.decode("utf-16-le" if stream.endswith("001F") else "cp1252", errors="replace").strip("\x00 ")
            if name:
                return name
    return f"attachment {number}"
