"""The files a container holds (an archive's members, a mail's attachments), each read as a document of its own
and headed by its path, within bounds that hold across every level of nesting."""

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import IO

from docintake.ingestor.adapters.parsers.detect import MiB
from docintake.ingestor.domain.document import Section
from docintake.ingestor.domain.failures import (
    ARCHIVE_TOO_LARGE,
    CORRUPT_FILE,
    ENCRYPTED,
    NEEDS_OCR,
    NO_TEXT,
    OCR_PAGE_LIMIT,
    IngestError,
)

MAX_DEPTH = 3  # containers within containers, the upload itself not counted
MAX_MEMBERS = 1000  # files read out of one upload, at every level together
_COPY_BLOCK = 1024 * 1024
_UNREAD_NAMED = 5
# a member failing with one of these fails the whole upload: they are bounds of the upload, not of the member
_UPLOAD_BOUNDS = frozenset((ARCHIVE_TOO_LARGE, OCR_PAGE_LIMIT, NEEDS_OCR))  # NEEDS_OCR: the whole upload goes to OCR

# detects the type of one file and extracts its sections and page count, reading its own members through `Members`
ReadDocument = Callable[[Path, str, "Members"], tuple[list[Section], int | None]]


@dataclass(frozen=True)
class Member:
    """One file of a container: its path there and a way to open its bytes."""

    path: str
    open: Callable[[], IO[bytes]]


@dataclass
class Budget:
    """What the members of one upload may still expand to, shared by its containers at every level."""

    max_expanded_bytes: int
    expanded_bytes: int = 0
    members: int = 0


@dataclass
class Unread:
    """Members that gave no text, each with the reason."""

    reasons: list[tuple[str, IngestError]] = field(default_factory=list)

    def error(self, container: str) -> IngestError:
        """The failure of a container none of whose members gave text."""
        codes = {error.code for _, error in self.reasons}
        code = codes.pop() if len(codes) == 1 else NO_TEXT
        if not self.reasons:
            return IngestError(NO_TEXT, f"The {container} holds no files")
        named = "; ".join(f"{path}: {error.message}" for path, error in self.reasons[:_UNREAD_NAMED])
        more = f"; and {len(self.reasons) - _UNREAD_NAMED} more" if len(self.reasons) > _UNREAD_NAMED else ""
        return IngestError(code, f"No file in the {container} has text: {named}{more}")


class Members:
    def __init__(self, read_document: ReadDocument, budget: Budget, depth: int = 1) -> None:
        self._read_document = read_document
        self._budget = budget
        self._depth = depth

    def read(self, members: Iterable[Member]) -> tuple[list[Section], Unread]:
        """The sections of every member that has text, each headed by the member's path; the others, unread.
        A container nested too deep, too many members or too many bytes, more pages to OCR than one upload may
        have, or a failure of the ingestor's own (OCR not installed) fail the whole upload."""
        if self._depth > MAX_DEPTH:
            raise IngestError(
                ARCHIVE_TOO_LARGE, f"The archive nests archives more than {MAX_DEPTH} deep (zip bomb protection)"
            )
        sections: list[Section] = []
        unread = Unread()
        inner = Members(self._read_document, self._budget, self._depth + 1)
        with tempfile.TemporaryDirectory(prefix="docintake-members-") as work_dir:
            for member in members:
                self._count_member()
                copy = Path(work_dir) / "member"
                try:
                    self._copy(member, copy)
                    extracted, _ = self._read_document(copy, PurePosixPath(member.path).name, inner)
                except IngestError as error:
                    if error.code in _UPLOAD_BOUNDS or error.retryable:  # retryable: the ingestor's own failure
                        raise
                    unread.reasons.append((member.path, error))
                    continue
                finally:
                    copy.unlink(missing_ok=True)
                sections.extend(_headed(member.path, section) for section in extracted)
        return sections, unread

    def _count_member(self) -> None:
        self._budget.members += 1
        if self._budget.members > MAX_MEMBERS:
            raise IngestError(
                ARCHIVE_TOO_LARGE, f"The archive holds more than {MAX_MEMBERS} files (zip bomb protection)"
            )

    def _copy(self, member: Member, target: Path) -> None:
        """The member's bytes into `target`, each counted against the upload's expansion limit as it comes."""
        budget = self._budget
        try:
            with member.open() as source, target.open("wb") as sink:
                while block := source.read(_COPY_BLOCK):
                    budget.expanded_bytes += len(block)
                    if budget.expanded_bytes > budget.max_expanded_bytes:
                        raise IngestError(
                            ARCHIVE_TOO_LARGE,
                            f"The archive expands to more than {budget.max_expanded_bytes // MiB} MiB "
                            "(zip bomb protection)",
                        )
                    sink.write(block)
        except IngestError:
            raise
        except RuntimeError as exc:  # zipfile's answer to a member encrypted with a password
            raise IngestError(ENCRYPTED, "The file is password-protected") from exc
        except Exception as exc:  # whatever the container's library fails with on damaged bytes
            raise IngestError(CORRUPT_FILE, "The file is damaged and could not be unpacked") from exc


def _headed(path: str, section: Section) -> Section:
    """A member's section under a heading path that starts with the member's own path."""
    return replace(section, heading_path=(path, *section.heading_path))
