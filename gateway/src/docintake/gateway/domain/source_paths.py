"""A document's source path: where the client keeps it within a collection, as a name, never a local path.

Folder parts are kept; the path is split on `/` and `\\`, each part cleaned like a filename, and
parts that are empty, `.` or `..` are dropped, so the path is relative and points nowhere above itself.
"""

from docintake.gateway.domain.filenames import cleaned, shortened
from docintake.gateway.domain.refusals import InvalidSourcePath

MAX_SOURCE_PATH_LENGTH = 1024


def normalized_source_path(raw: str | None, filename: str) -> str:
    """The source path the client gave a part, normalised; its display `filename` when nothing is left of it."""
    parts = (shortened(cleaned(part)) for part in (raw or "").replace("\\", "/").split("/"))
    path = "/".join(part for part in parts if part and part != "..") or filename
    if len(path) > MAX_SOURCE_PATH_LENGTH:
        raise InvalidSourcePath(filename, MAX_SOURCE_PATH_LENGTH)
    return path
