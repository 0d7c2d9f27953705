"""A sync: the files a client has (source path, sha256, size) compared with what a collection holds.

Each path is normalised exactly as an upload normalises its part's path, so a file syncs under the
source its upload would write. A path is new when the collection has no such source, changed when its
source's current content has another sha256, unchanged when it has the same; the collection's sources
the list does not name are absent. A collection without a source (one never uploaded to) has every
path new and nothing absent.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from docintake.contracts.api import SyncAnswer, SyncEntry
from docintake.gateway.domain.collections import valid_collection
from docintake.gateway.domain.refusals import InvalidSourcePath, InvalidSync
from docintake.gateway.domain.source_paths import normalized_source_path

MAX_SYNC_ENTRIES = 100_000
# The body of a sync request: 100,000 entries of 200-character paths fit with room to spare.
MAX_SYNC_BODY_BYTES = 48 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Listed:
    """One file of the client's list: the path as sent, the source path it names, its content's sha256."""

    sent: str
    path: str
    sha256: str


def listed_files(entries: list[SyncEntry]) -> list[Listed]:
    """The list read as source paths; refuses too many entries, a path naming nothing or too long, a sha256
    that is not 64 hex digits, a negative size, and two entries naming one source."""
    if len(entries) > MAX_SYNC_ENTRIES:
        raise InvalidSync(f"At most {MAX_SYNC_ENTRIES} sources per sync; {len(entries)} were sent")
    listed: dict[str, Listed] = {}
    for number, entry in enumerate(entries):
        shown = entry.path[:100]
        try:
            path = normalized_source_path(entry.path, "")
        except InvalidSourcePath:
            raise InvalidSync(f"Source {number}: the path '{shown}...' is longer than the 1024 characters "
                              "a source path may have") from None
        if not path:
            raise InvalidSync(f"Source {number}: the path '{shown}' names nothing")
        sha256 = entry.sha256.lower()
        if not _SHA256.fullmatch(sha256):
            raise InvalidSync(f"Source {number} ('{shown}'): sha256 must be 64 hexadecimal digits")
        if entry.size < 0:
            raise InvalidSync(f"Source {number} ('{shown}'): size must not be negative")
        if path in listed:
            raise InvalidSync(f"Sources '{listed[path].sent[:100]}' and '{shown}' name the same source '{path[:100]}'")
        listed[path] = Listed(entry.path, path, sha256)
    return list(listed.values())


def sync_collection(name: str) -> str:
    return valid_collection(name)


def compared(collection: str, listed: list[Listed], current: Mapping[str, str], stored: Iterable[str]) -> SyncAnswer:
    """The answer, from the current sha256 of each listed source the collection has (`current`, by source
    path) and every source path the collection has (`stored`)."""
    new: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    for file in listed:
        have = current.get(file.path)
        (new if have is None else unchanged if have == file.sha256 else changed).append(file.sent)
    named = {file.path for file in listed}
    return SyncAnswer(collection=collection, new=new, changed=changed, unchanged=unchanged,
                      absent=[path for path in stored if path not in named])
