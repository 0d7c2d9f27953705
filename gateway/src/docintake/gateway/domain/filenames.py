"""Make an uploaded filename safe to show and store: no folders, no control characters, bounded length."""

import unicodedata

from docintake.contracts.mapping import mapping_key

MAX_FILENAME_LENGTH = 255


# Format characters that spell words in some scripts (Persian, Indic, emoji sequences).
_JOINERS = {"\u200c", "\u200d"}


def _kept(character: str) -> bool:
    """Control, format and unassigned characters go; the joiners that are part of words stay."""
    return unicodedata.category(character)[0] != "C" or character in _JOINERS


def cleaned(text: str) -> str:
    """The text in NFC form without control or invisible characters, trimmed of spaces and dots."""
    return "".join(ch for ch in unicodedata.normalize("NFC", text) if _kept(ch)).strip().strip(".")


def shortened(name: str) -> str:
    """A name past MAX_FILENAME_LENGTH cut to it, keeping a short extension."""
    if len(name) <= MAX_FILENAME_LENGTH:
        return name
    stem, dot, suffix = name.rpartition(".")
    keep = suffix if dot and len(suffix) <= 16 else ""
    return name[: MAX_FILENAME_LENGTH - len(keep) - 1].rstrip() + ("." + keep if keep else "")


def sanitize_filename(raw: str | None) -> str:
    return shortened(cleaned(mapping_key(raw or "")) or "unnamed")
