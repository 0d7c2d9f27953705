"""Make an uploaded filename safe to show and store: no folders, no control characters, bounded length."""

import unicodedata

from docintake.gateway.mapping import mapping_key

MAX_FILENAME_LENGTH = 255


def sanitize_filename(raw: str | None) -> str:
    name = mapping_key(raw or "")
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".") or "unnamed"
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, suffix = name.rpartition(".")
        keep = suffix if dot and len(suffix) <= 16 else ""
        name = name[: MAX_FILENAME_LENGTH - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return name
