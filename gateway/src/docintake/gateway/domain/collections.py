"""A collection's name: a named knowledge base every uploaded document belongs to."""

import re

from docintake.contracts.events import DEFAULT_COLLECTION
from docintake.gateway.domain.refusals import InvalidCollection

MAX_COLLECTION_LENGTH = 64
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def valid_collection(name: str | None) -> str:
    """The collection named, DEFAULT_COLLECTION when none is; refuses a name that is not safe to key by."""
    if name is None or name == "":
        return DEFAULT_COLLECTION
    if len(name) > MAX_COLLECTION_LENGTH or not _NAME.fullmatch(name):
        shown = name if len(name) <= MAX_COLLECTION_LENGTH else name[:MAX_COLLECTION_LENGTH] + "..."
        raise InvalidCollection(f"The collection '{shown}' is not a valid name: 1 to {MAX_COLLECTION_LENGTH} "
                                "letters, digits, '.', '_' or '-', starting with a letter or digit")
    return name

