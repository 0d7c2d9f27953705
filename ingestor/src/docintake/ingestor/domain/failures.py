"""Why a document could not be ingested, in words a knowledge-base administrator understands."""

# The file itself
UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
ENCRYPTED = "ENCRYPTED"
CORRUPT_FILE = "CORRUPT_FILE"
NO_TEXT = "NO_TEXT"
EMPTY_FILE = "EMPTY_FILE"
ARCHIVE_TOO_LARGE = "ARCHIVE_TOO_LARGE"
PARSE_TIMEOUT = "PARSE_TIMEOUT"
PARSER_CRASHED = "PARSER_CRASHED"
IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
OCR_TIMEOUT = "OCR_TIMEOUT"
OCR_PAGE_LIMIT = "OCR_PAGE_LIMIT"
OCR_FAILED = "OCR_FAILED"
NEEDS_OCR = "NEEDS_OCR"  # internal: the text pass hands the document to the OCR workers
# Its metadata, its upload, its place in the graph
METADATA_INVALID = "METADATA_INVALID"
OBJECT_MISSING = "OBJECT_MISSING"
GRAPH_WRITE_FAILED = "GRAPH_WRITE_FAILED"
INTERNAL_ERROR = "INTERNAL_ERROR"
# A server out of reach: worth another try later
STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"
GRAPH_UNAVAILABLE = "GRAPH_UNAVAILABLE"
BROKER_UNAVAILABLE = "BROKER_UNAVAILABLE"


class IngestError(Exception):
    """A document that cannot be ingested; `code` is stable, `message` is for people."""

    def __init__(self, code: str, message: str, retryable: bool = False) -> None:
        # every field goes to Exception.args so the error survives pickling across the process pool
        super().__init__(code, message, retryable)
        self.code = code
        self.message = message
        self.retryable = retryable

    def __str__(self) -> str:
        return self.message


class NeedsOcr(IngestError):
    """Not a failure: the text pass found `pages` pages (at least: it stops at the first file that has some)
    that need OCR, which the OCR workers do. Never published as an error code."""

    def __init__(self, pages: int) -> None:
        super().__init__(NEEDS_OCR, f"{pages} pages need OCR")
        self.pages = pages

    def __reduce__(self) -> tuple[type["NeedsOcr"], tuple[int]]:  # across the process pool
        return NeedsOcr, (self.pages,)


class TransientFailure(Exception):
    """Worth another try later: a server was unreachable. `code` says which."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
