"""Turning bytes of unknown encoding into clean text."""

import codecs
import re

from charset_normalizer import from_bytes

# UTF-32 first: its little-endian BOM begins with the UTF-16 one
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SINGLE_BYTE_CODECS = ("cp125", "iso8859", "mac-", "koi8")
_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+(?=\n|$)")
_BLANK_LINES = re.compile(r"\n{3,}")
# control characters go, page and line feeds become newlines, and U+FFFE, which PDFium leaves where
# a word was hyphenated at the end of a line, goes too so that the word is whole again
_CLEANUP = {
    **dict.fromkeys([*range(0, 9), *range(14, 32), 0x7F, 0xFFFE, 0xFFFF]),
    ord("\f"): "\n",
    ord("\v"): "\n",
}


def bom_encoding(raw: bytes) -> str | None:
    return next((encoding for bom, encoding in _BOMS if raw.startswith(bom)), None)


def bomless_utf16(sample: bytes) -> str | None:
    """UTF-16 without a BOM, recognised by the NUL high bytes of mostly-ASCII text."""
    even, odd = sample[0::2], sample[1::2]
    if len(odd) < 8:
        return None
    if odd.count(0) > 0.3 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.3 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_text(raw: bytes) -> str:
    """Decode text of any common encoding: BOM, UTF-16 without BOM, UTF-8, best guess, else cp1252."""
    encoding = bom_encoding(raw) or bomless_utf16(raw[:4096])
    if encoding:
        return normalise_newlines(raw.decode(encoding, errors="replace"))
    try:
        return normalise_newlines(raw.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    return normalise_newlines(_guess(raw))


def decode_declared(raw: bytes, label: str | None) -> str:
    """Decode text in the charset it declares where the bytes agree with it, else as `decode_text` does."""
    for codec in _candidates(codec_name(label)):
        try:
            return normalise_newlines(raw.decode(codec))
        except UnicodeDecodeError:
            pass
    return decode_text(raw)


def _candidates(codec: str | None) -> tuple[str, ...]:
    if codec is None:
        return ()
    # UTF-8 labelled as a legacy single-byte charset is common, and valid UTF-8 is no accident
    return ("utf-8", codec) if codec.startswith(_SINGLE_BYTE_CODECS) else (codec,)


def codec_name(label: str | None) -> str | None:
    """Python's codec for a declared charset, read as browsers read it: Latin-1 and ASCII mean cp1252."""
    try:
        name = codecs.lookup(label).name if label else None
    except LookupError:
        return None
    return "cp1252" if name in ("iso8859-1", "ascii") else name


def _guess(raw: bytes) -> str:
    return raw.decode(guessed_encoding(raw), errors="replace")


def guessed_encoding(raw: bytes) -> str:
    """The encoding text that is no UTF-8 most likely has, judged from `raw` (all of it, or a sample)."""
    matches = from_bytes(raw)
    best = matches.best()
    # short Western texts fit many code pages equally well: then the most common one is the best bet
    if best is None or any("cp1252" in match.could_be_from_charset and match.chaos <= best.chaos
                           for match in matches):
        return "cp1252"
    return best.encoding


def tidy(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line in a row, no surrounding blank space."""
    text = normalise_newlines(text).translate(_CLEANUP)
    return _BLANK_LINES.sub("\n\n", _TRAILING_SPACE.sub("", text)).strip()
